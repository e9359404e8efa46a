// Starts Swagger UI on the hub's OpenAPI document (a file, not an inline script: the CSP allows only 'self').
window.addEventListener("load", function () {
  window.SwaggerUIBundle({ url: "/api/v1/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
});
