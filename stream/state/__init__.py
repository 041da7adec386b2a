"""Latest state per device and the meters per asset, kept in step with every stored batch."""
