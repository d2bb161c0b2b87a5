// Sample web backend for env2vault's tests. Prints a SHA-256 of each
// setting it reads, never the setting itself.
const crypto = require("crypto");
const { SENDGRID_API_KEY } = process.env;

function digest(value) {
  return crypto.createHash("sha256").update(value || "").digest("hex");
}

const stripeKey = process.env.STRIPE_SECRET_KEY;
const session = process.env["SESSION_SECRET"];
const port = process.env.PORT || "3000";

console.log("SENDGRID_API_KEY", digest(SENDGRID_API_KEY));
console.log("STRIPE_SECRET_KEY", digest(stripeKey));
console.log("SESSION_SECRET", digest(session));
console.log("PORT", port);
