"""Console scripts shipped with the gateway."""
