"""Equipment health over HTTP: a 0-100 score per unit and its failure risk."""
