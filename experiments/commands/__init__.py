"""One module per `chipwar` sub-command: each has add_arguments(parser) and run(args) -> int."""
