/* The field page's service worker, served by web/field.py from /field/sw.js with FIELD_SHELL
 * (the cache's version, the page's URL and the static files it needs) written before this text.
 *
 * It keeps the page shell so that a reload with no network still opens the page: the page itself
 * network first (a fresh copy whenever the server answers), its static files cache first (the
 * version changes when they do). The API is not touched: field.js keeps its own copy of the route
 * and its queue of visits in localStorage. */
/* global FIELD_SHELL */
"use strict";

var PREFIX = "plategrid-field-";
var CACHE = PREFIX + FIELD_SHELL.version;

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return cache.addAll(FIELD_SHELL.static).then(function () {
      // The page as the signed-in user sees it; a redirect to the login page is not kept.
      return fetch(FIELD_SHELL.page, { credentials: "same-origin" }).then(function (response) {
        if (response.ok && !response.redirected) return cache.put(FIELD_SHELL.page, response);
      }).catch(function () { /* kept on the next visit */ });
    });
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (n) { return n.indexOf(PREFIX) === 0 && n !== CACHE; })
      .map(function (n) { return caches.delete(n); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && url.pathname === FIELD_SHELL.page) {
    event.respondWith(fetch(request).then(function (response) {
      if (response.ok && !response.redirected) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { cache.put(FIELD_SHELL.page, copy); });
      }
      return response;
    }, function () {
      return caches.match(FIELD_SHELL.page, { cacheName: CACHE }).then(function (cached) {
        return cached || Response.error();
      });
    }));
    return;
  }
  if (FIELD_SHELL.static.indexOf(url.pathname) >= 0) {
    event.respondWith(caches.match(url.pathname, { cacheName: CACHE }).then(function (cached) {
      return cached || fetch(request);
    }));
  }
});
