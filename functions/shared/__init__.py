"""Code every pattern's functions may use; shipped in each pattern's asset beside its own package."""
