"""Deployment of a trained model outside nnU-Net's results folder: ONNX export and prediction with ONNX Runtime.

Modules: ``onnx_graph`` (exporting a network to an ONNX graph, ONNX Runtime sessions, ``OnnxNetwork``, the
stand-in for the network inside nnU-Net's predictor), ``parity`` (PyTorch vs ONNX Runtime on one patch),
``model_folder`` (the exported folder's layout and ``export.json``), ``export`` (``nnunet-lunet export-onnx``),
``predict`` (``nnunet-lunet predict``), ``tiles`` (its tile size), ``input_folder`` (its input checks),
``graph_runtimes`` (the runtimes that run a graph), ``int8`` (the INT8 quantiser, a leaf) and ``int8_validation``
(its validation Dice, which predicts). ``onnx``/``onnxruntime`` are imported inside functions, so importing this
package costs nothing.
"""
