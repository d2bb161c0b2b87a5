// Shipped to every browser.
window.APP_CONFIG = {
  mapsKey: "{{fake:google-maps}}",
  theme: "dark",
};
