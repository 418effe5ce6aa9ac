import { createRequire as __createRequire } from "node:module";
const require = __createRequire(import.meta.url);
var UNSAFE=/[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;function escape(ch){let code=ch.charCodeAt(0);return code===13?"\\r":code<32?`\\x${code.toString(16).padStart(2,"0")}`:`\\u${code.toString(16).padStart(4,"0")}`}function terminalSafe(text){return text.replace(UNSAFE,escape)}export{terminalSafe};
