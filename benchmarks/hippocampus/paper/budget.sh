# The paper preset's budget and recipe for every row (sourced by queue.sh): 20 epochs x 25 iterations of batch 2
# (500 steps), 5 validation iterations per epoch, final validation without mirroring; the lean recipe's trainers.
export nnUNet_def_n_proc=${nnUNet_def_n_proc:-2} nnUNet_n_proc_DA=${nnUNet_n_proc_DA:-2} nnUNet_compile=false
export NNUNET_LUNET_EPOCHS=20 NNUNET_LUNET_ITERATIONS=25 NNUNET_LUNET_VAL_ITERATIONS=5 NNUNET_LUNET_VAL_TTA=0
