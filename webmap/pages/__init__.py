"""The HTML pages: the commander's map (``map``), the planner's site veto (``veto``) and the
regional analyst's border page (``border``). Templates and static assets live in
``webmap/templates`` and ``webmap/static``."""
