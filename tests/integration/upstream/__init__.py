"""The ``ejabberd`` backend against Debian's ejabberd 23.01 on loopback (issue 10)."""
