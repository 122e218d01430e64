"""What mod_rest answers for the ctl processor's text."""

from __future__ import annotations

from gateway.frontends.rest.output import rest_text


def test_plain_text() -> None:
    """Text is passed through, whatever the status."""
    assert rest_text("alice\nbob", 0) == "alice\nbob"
    assert rest_text("Error: false", 1) == "Error: false"


def test_no_text_gives_status() -> None:
    """Without text the body is the decimal exit status."""
    assert rest_text("", 0) == "0"
    assert rest_text("", 3) == "3"


def test_console_error_line_removed() -> None:
    """The ``Error: error`` line that ejabberdctl prints on its console is left out."""
    assert rest_text('Error: error\nError: "Unknown virtual host"', 1) == (
        'Error: "Unknown virtual host"'
    )
    assert rest_text("Error: error\nline", 0) == "Error: error\nline"


def test_help_before_count_error_removed() -> None:
    """The help printed before a wrong-count error is left out; other texts are kept."""
    text = "Command Name: x\n\n  Arguments: a\n\nError: the command 'x' requires 1 more argument."
    assert rest_text(text, 1) == "Error: the command 'x' requires 1 more argument."
    kept = "first\n\nsecond"
    assert rest_text(kept, 1) == kept
