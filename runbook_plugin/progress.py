"""Live progress of long steps on the terminal, past pytest's capture (as pytest's live logging
writes), so it never lands in captured output or the HTML report."""

import contextlib

import pytest

from procedures import progress


def terminal_sink(config: pytest.Config) -> progress.Sink:
    """A progress sink that writes each line on the terminal with capture suspended for it."""
    capture = config.pluginmanager.getplugin("capturemanager")

    def write(line: str) -> None:
        terminal = config.pluginmanager.getplugin("terminalreporter")
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            if terminal is None:  # -p no:terminal
                progress.to_stderr(line)
            else:
                terminal.ensure_newline()
                if terminal._width_of_current_line:  # -q writes its dots with no path, which ensure_newline misses
                    terminal.write("\n")
                terminal.write_line(line)

    return write


@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    previous = progress.use_sink(terminal_sink(config))
    config.add_cleanup(lambda: progress.use_sink(previous))
