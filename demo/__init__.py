"""`make demo`: runs each finished pattern's scenario on localcloud and prints what happened."""
