from __future__ import annotations

import subprocess
import sys

import click
from click.testing import CliRunner

from newsclf.cli import main


def all_commands(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        yield prefix + (name,), command
        if isinstance(command, click.Group):
            yield from all_commands(command, prefix + (name,))


def test_top_level_help_lists_every_subcommand():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for name in main.commands:
        assert f"  {name} " in result.output


def test_every_subcommand_has_help_with_an_example():
    commands = list(all_commands(main))
    assert len(commands) >= 9
    for path, _ in commands:
        result = CliRunner().invoke(main, [*path, "--help"])
        assert result.exit_code == 0, path
        assert "Example:" in result.output and "newsclf " in result.output.split("Example:")[1], (
            path
        )


def test_usage_errors_exit_2_and_the_console_script_runs():
    assert CliRunner().invoke(main, ["train"]).exit_code == 2
    assert CliRunner().invoke(main, ["no-such-command"]).exit_code == 2
    done = subprocess.run(
        [sys.executable, "-m", "newsclf.cli", "--version"], capture_output=True, text=True
    )
    assert done.returncode == 0 and "0.1.0" in done.stdout
