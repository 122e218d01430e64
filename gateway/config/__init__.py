"""Configuration: ejabberd's vocabulary plus the gateway's own section."""
