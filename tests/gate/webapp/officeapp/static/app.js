// The app's own script: records anything its CSP blocked, so a test can say that Curfew's
// banner ran under the app's policy without breaking it.
window.officeCspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.officeCspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
