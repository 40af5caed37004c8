"""`python -m devstack up | token | invoke`: the local stack's command line."""

from devstack.cli import main

raise SystemExit(main())
