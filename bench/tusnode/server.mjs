// The reference tus server for `python -m bench uploads`: @tus/server + @tus/file-store, nothing else.
// node server.mjs <port> <directory>: listens on 127.0.0.1:<port>, tus endpoint /files/, files in <directory>.
import http from "node:http";
import { Server } from "@tus/server";
import { FileStore } from "@tus/file-store";

const [port, directory] = process.argv.slice(2);
const tus = new Server({ path: "/files", datastore: new FileStore({ directory }) });
http.createServer((req, res) => tus.handle(req, res)).listen(Number(port), "127.0.0.1", () => {
  console.log(`tus reference server on http://127.0.0.1:${port}/files/`);
});
