"""Map sheets (图幅): printable field packs as vector PDF and the same pack as a GeoPackage.

``pack`` holds the pack's content as plain data (shapely in metres of ``settings.METRIC_SRID``,
strings already masked and escaped where needed): ``content`` reads it from the database through
``visible_to(user)``; ``layout`` cuts the area into sheets with grid references; ``mappage``
(map sheets), ``pages`` (the cover), ``registers``, ``plans`` and ``render`` draw it with fpdf2
(fonts embedded, text selectable); ``gpkg`` writes the GeoPackage; ``jobs`` runs all of it in
the background.
"""
