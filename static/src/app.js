// Starts GOV.UK Frontend's components. Loaded as an external module so the
// Content-Security-Policy needs no 'unsafe-inline'.
import { initAll } from "./govuk-frontend.min.js";

initAll();
