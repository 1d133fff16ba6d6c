from livewell.cli import main

raise SystemExit(main())
