"""Code any pattern's functions may use; shipped in every pattern's asset."""
