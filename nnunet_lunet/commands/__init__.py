"""One module per ``nnunet-lunet`` subcommand; each has ``add_parser(subparsers)`` setting ``func=run``."""
