"""Training from the app: the session bridge, growing buffers, the live dashboard, the runs list."""
