"""Coverage maps (docs/coverage.md): the choropleth of coverage by territory node and its weekly
replay, the gap heatmap and gap layers, the dashboard and monthly report, and exports of a view.
Every figure is read from the incrementally kept coverage tables of ``grid`` (``CoverageCount``,
``SweepCount``, ``RoomVisitState``, ``CoverageSnapshot``); nothing scans all visits per request."""
