from handwrite.cli import main

raise SystemExit(main())
