// Swagger UI over the app's own OpenAPI description (bundled swagger-ui-dist, no CDN).
(function () {
  const el = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({url: el.dataset.spec, dom_id: "#swagger-ui",
                               oauth2RedirectUrl: location.origin + el.dataset.redirect,
                               deepLinking: true, presets: [SwaggerUIBundle.presets.apis]});
})();
