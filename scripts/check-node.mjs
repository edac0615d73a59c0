// Fails early, with a clear message, on a Node.js older than the project supports.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  console.error(`apex-memory needs Node.js 20.19 or newer; this is ${process.version}.`);
  process.exit(1);
}
