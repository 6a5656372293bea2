from ecoach_cli.main import main

raise SystemExit(main())
