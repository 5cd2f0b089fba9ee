/* The API documentation page (/api/docs): Swagger UI over the app's OpenAPI document.
   A static file, not an inline script, so the page holds under a Content-Security-Policy
   without 'unsafe-inline'. The document's address comes from the mount point's data-spec-url. */
(function () {
  "use strict";
  var mount = document.getElementById("swagger-ui");
  window.riskmapDocs = SwaggerUIBundle({
    url: mount.getAttribute("data-spec-url"),
    domNode: mount,
    deepLinking: true,
    docExpansion: "list",
    defaultModelsExpandDepth: 0,
    showCommonExtensions: true, // each parameter's bounds: minimum, maximum, maxLength, pattern
    // requests made with "Try it out" carry the page's session cookie, as the map's own requests do
    withCredentials: true,
    validatorUrl: null, // never ask an outside validator service about the document
    onComplete: function () { document.body.setAttribute("data-docs-ready", "1"); }
  });
})();
