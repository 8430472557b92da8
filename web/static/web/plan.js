/* The building plan (房屋平面图): floors stacked top to bottom, each room drawn from its plan
 * geometry (metres in the building's own frame) or, on a floor where some room has no plan, every
 * room of that floor as an equal cell. Rooms are coloured by use and carry their numbers.
 *
 * plategridPlan.render(floors, {colours, selected, onRoom, labels, entrances}) -> <svg>
 * (entrances: entrance id -> its number; with two or more, each entrance's span is labelled on top,
 * as the plans in the seeds are drawn: one column of rooms per staircase). */
(function (root) {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var WIDTH = 340, LABEL_W = 34, GAP = 3, MIN_ROW = 26, MAX_ROW = 44, HEAD = 16;

  function el(name, attrs, text) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function ring(room) {
    var g = room.plan_geom;
    return g && g.type === "Polygon" && g.coordinates.length ? g.coordinates[0] : null;
  }

  function bounds(points) {
    var b = [Infinity, Infinity, -Infinity, -Infinity];
    points.forEach(function (p) {
      b[0] = Math.min(b[0], p[0]); b[1] = Math.min(b[1], p[1]);
      b[2] = Math.max(b[2], p[0]); b[3] = Math.max(b[3], p[1]);
    });
    return b;
  }

  function floorLabel(floor) { return floor < 0 ? "B" + (-floor) : floor + "F"; }

  function entranceSpans(floors, entrances) {
    var spans = {};
    floors.forEach(function (f) {
      f.rooms.forEach(function (r) {
        var p = ring(r);
        if (!p || r.entrance === null || entrances[r.entrance] === undefined) return;
        var b = bounds(p), s = spans[r.entrance] || (spans[r.entrance] = { number: entrances[r.entrance], min: b[0], max: b[2] });
        s.min = Math.min(s.min, b[0]); s.max = Math.max(s.max, b[2]);
      });
    });
    return Object.keys(spans).map(function (k) { return spans[k]; }).sort(function (a, b) { return a.min - b.min; });
  }

  function render(floors, options) {
    var colours = options.colours || {};
    var all = [];
    floors.forEach(function (f) {
      f.rooms.forEach(function (r) { var p = ring(r); if (p) all = all.concat(p); });
    });
    var extent = all.length ? bounds(all) : null;
    var usable = WIDTH - LABEL_W;
    var scale = extent && extent[2] > extent[0] ? usable / (extent[2] - extent[0]) : 1;
    var svg = el("svg", { "class": "plan", role: "img", "aria-label": options.labels.plan });
    var y = 0;
    var spans = extent ? entranceSpans(floors, options.entrances || {}) : [];
    if (spans.length > 1) {
      spans.forEach(function (span) {
        var x0 = LABEL_W + (span.min - extent[0]) * scale, x1 = LABEL_W + (span.max - extent[0]) * scale;
        svg.appendChild(el("text", { x: (x0 + x1) / 2, y: HEAD - 4, "text-anchor": "middle", "class": "entrance-label" },
          options.labels.unit.replace("%(number)s", span.number)));
        svg.appendChild(el("line", { x1: x0 + 2, x2: x1 - 2, y1: HEAD - 1, y2: HEAD - 1, "class": "entrance-line" }));
      });
      y = HEAD + 2;
    }
    floors.forEach(function (f) {
      var planned = f.rooms.length > 0 && f.rooms.every(ring);
      var rowH = MIN_ROW;
      var fb = null;
      if (planned) {
        fb = bounds([].concat.apply([], f.rooms.map(ring)));
        rowH = Math.max(MIN_ROW, Math.min(MAX_ROW, (fb[3] - fb[1]) * scale));
      }
      var row = el("g", { "class": "floor", "data-floor": f.floor, transform: "translate(0," + y + ")" });
      row.appendChild(el("text", { x: 2, y: rowH / 2 + 4, "class": "floor-label" }, floorLabel(f.floor)));
      if (!f.rooms.length) {
        row.appendChild(el("rect", { x: LABEL_W, y: 1, width: usable, height: rowH - 2, "class": "empty" }));
      }
      var cellW = usable / Math.max(1, f.rooms.length);
      var sy = planned ? rowH / Math.max(1e-9, fb[3] - fb[1]) : 1;
      f.rooms.forEach(function (room, i) {
        var shape, cx, cy, w;
        if (planned) {
          var pts = ring(room).map(function (p) {
            return [LABEL_W + (p[0] - extent[0]) * scale, rowH - (p[1] - fb[1]) * Math.min(scale, sy)];
          });
          shape = el("polygon", { points: pts.map(function (p) { return p[0].toFixed(1) + "," + p[1].toFixed(1); }).join(" ") });
          var rb = bounds(pts);
          cx = (rb[0] + rb[2]) / 2; cy = (rb[1] + rb[3]) / 2; w = rb[2] - rb[0];
        } else {
          shape = el("rect", { x: LABEL_W + i * cellW + 1, y: 1, width: Math.max(1, cellW - 2), height: rowH - 2 });
          cx = LABEL_W + (i + 0.5) * cellW; cy = rowH / 2; w = cellW;
        }
        var g = el("g", { "class": "room" + (room.id === options.selected ? " selected" : ""),
                          "data-room": room.id, tabindex: 0, role: "button" });
        shape.setAttribute("fill", colours[room.use] || "#ccc");
        g.appendChild(shape);
        g.appendChild(el("title", {}, room.number + " · " + (options.labels.uses[room.use] || room.use)));
        var size = Math.min(12, Math.max(7, w / Math.max(2, String(room.number).length) * 1.6));
        if (w >= 14) g.appendChild(el("text", { x: cx, y: cy + size / 3, "font-size": size, "text-anchor": "middle" }, room.number));
        g.addEventListener("click", function () { options.onRoom(room); });
        g.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); options.onRoom(room); } });
        row.appendChild(g);
      });
      svg.appendChild(row);
      y += rowH + GAP;
    });
    svg.setAttribute("viewBox", "0 0 " + WIDTH + " " + Math.max(y, 1));
    return svg;
  }

  root.plategridPlan = { render: render };
})(window);
