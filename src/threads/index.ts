export * from "./spawn.js";
