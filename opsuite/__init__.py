"""`opsuite`, the operator's command: one subcommand per ops check (run through pytest, with the same
evidence as `pytest ops_checks/NAME.py`), plus status, config check, sign-off and shell completion.

    cli         the parser and main(): subcommands, exit codes (0 ok, 1 a step failed, 2 usage or
                config, 3 internal)
    checks      which ops check each subcommand runs, and running it through pytest
    where       the checkout, its ops config and reports directory, as the pytest plugin finds them
    completion  bash and zsh completion generated from the parser
"""
