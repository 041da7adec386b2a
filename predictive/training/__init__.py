"""Training the multivariate and failure-risk models from history, and loading them back."""
