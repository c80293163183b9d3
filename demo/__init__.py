"""`make demo`: runs each finished pattern's scenario on localcloud and prints what happened.

The scenarios read names from the patterns' contract modules (`pub_sub.contract`), which
live in the Lambda asset root; importing `infra` puts that root on the import path, for
`python -m demo` and for `localcloud run <pattern>` alike.
"""

import infra  # noqa: F401
