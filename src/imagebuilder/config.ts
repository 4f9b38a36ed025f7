/**
 * ImageBuilder's config file: `uboot-script-gen` reads it with bash's `source`, so it is a shell
 * script. sshm accepts the part of bash a config is written in — assignments `NAME=value` and
 * `NAME[index]=value` (several per line, separated by blanks or `;`), `#` comments, single and
 * double quotes, backslash escapes, line continuations and `$NAME` / `${NAME}` / `${NAME[i]}`
 * expansion of variables assigned earlier — and refuses anything else (commands, `$(...)`,
 * arithmetic, control flow) with an error naming the line, because sshm cannot run it.
 */
import { SshmError } from "../common/index.js";

/** One assignment as bash would perform it, with where it was written. */
export interface Assignment {
  name: string;
  /** The array index for `NAME[i]=`, undefined for a scalar. */
  index: number | undefined;
  value: string;
  line: number;
  column: number;
}

/** Characters bash ends an unquoted word at (blank, `;`, newline and the other metacharacters). */
const METACHARS = new Set([" ", "\t", "\n", ";", "&", "|", "<", ">", "(", ")"]);
const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Shorthand for an SshmError at a config position. */
function syntaxError(file: string, line: number, column: number, message: string): SshmError {
  return new SshmError("EIMAGEBUILDER_SYNTAX", message, { file, line, column });
}

/**
 * Read a config's assignments in order. `lookup` resolves `$NAME` expansions against what is
 * assigned so far (bash expands while it executes, so a later assignment is not visible).
 */
export function parseConfig(text: string, file: string): Assignment[] {
  const out: Assignment[] = [];
  const scalars = new Map<string, string>();
  const arrays = new Map<string, Map<number, string>>();
  const cr = text.indexOf("\r");
  if (cr >= 0) {
    const crLine = text.slice(0, cr).split("\n").length;
    throw syntaxError(
      file,
      crLine,
      cr - text.lastIndexOf("\n", cr - 1),
      "carriage return (CRLF line endings?): bash reads it as part of the value, so ImageBuilder would see every value with a trailing \\r",
    );
  }
  let i = 0;
  let line = 1;
  let col = 1;

  const peek = (k = 0): string => text[i + k] ?? "";
  const advance = (): string => {
    const c = text[i++] ?? "";
    if (c === "\n") {
      line++;
      col = 1;
    } else col++;
    return c;
  };

  const expand = (l: number, c: number): string => {
    // At a `$`: bash's parameter expansion, limited to plain variables.
    advance();
    if (peek() === "{") {
      advance();
      let body = "";
      while (peek() !== "}" && peek() !== "") body += advance();
      if (peek() !== "}") throw syntaxError(file, l, c, "unterminated ${ expansion");
      advance();
      const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:\[([0-9]+)\])?$/.exec(body);
      if (!m)
        throw syntaxError(
          file,
          l,
          c,
          `\${${body}} is not a plain variable expansion; sshm only expands \${NAME} and \${NAME[i]}`,
        );
      return m[2] === undefined ? valueOfName(m[1]!) : (arrays.get(m[1]!)?.get(Number(m[2])) ?? "");
    }
    if (peek() === "(")
      throw syntaxError(file, l, c, "command substitution and $((arithmetic)) cannot be evaluated by sshm");
    let name = "";
    while (/[A-Za-z0-9_]/.test(peek()) && !(name === "" && /[0-9]/.test(peek()))) name += advance();
    if (name === "") return "$";
    return valueOfName(name);
  };
  // bash: `$A` for an array A is its element 0.
  const valueOfName = (name: string): string => scalars.get(name) ?? arrays.get(name)?.get(0) ?? "";

  /** One word (the value of an assignment): quotes removed, expansions done. */
  const word = (): string => {
    let v = "";
    while (i < text.length && !METACHARS.has(peek())) {
      const c = peek();
      const l = line;
      const cc = col;
      if (c === "'") {
        advance();
        while (peek() !== "'" && peek() !== "") v += advance();
        if (peek() !== "'") throw syntaxError(file, l, cc, "unterminated single-quoted string");
        advance();
      } else if (c === '"') {
        advance();
        while (peek() !== '"' && peek() !== "") {
          if (peek() === "\\") {
            // Inside double quotes a backslash escapes only $ ` " \ and newline.
            const n = peek(1);
            if (n === "\n") {
              advance();
              advance();
            } else if (n === "$" || n === "`" || n === '"' || n === "\\") {
              advance();
              v += advance();
            } else v += advance();
          } else if (peek() === "$") v += expand(line, col);
          else if (peek() === "`")
            throw syntaxError(file, line, col, "command substitution cannot be evaluated by sshm");
          else v += advance();
        }
        if (peek() !== '"') throw syntaxError(file, l, cc, "unterminated double-quoted string");
        advance();
      } else if (c === "\\") {
        advance();
        if (peek() === "\n") advance();
        else if (peek() !== "") v += advance();
      } else if (c === "$") v += expand(l, cc);
      else if (c === "`") throw syntaxError(file, l, cc, "command substitution cannot be evaluated by sshm");
      else v += advance();
    }
    return v;
  };

  while (i < text.length) {
    const c = peek();
    if (c === " " || c === "\t" || c === "\n" || c === ";") {
      advance();
      continue;
    }
    if (c === "\\" && peek(1) === "\n") {
      advance();
      advance();
      continue;
    }
    if (c === "#") {
      while (peek() !== "\n" && peek() !== "") advance();
      continue;
    }
    const l = line;
    const cc = col;
    // An assignment starts with NAME or NAME[index] followed by `=` with no blank around it.
    let name = "";
    while (/[A-Za-z0-9_]/.test(peek())) name += advance();
    let index: number | undefined;
    if (name !== "" && NAME_RE.test(name) && peek() === "[") {
      advance();
      let idx = "";
      while (peek() !== "]" && peek() !== "" && peek() !== "\n") idx += advance();
      if (peek() !== "]") throw syntaxError(file, l, cc, `${name}[: missing ]`);
      advance();
      if (!/^[0-9]+$/.test(idx.trim()))
        throw syntaxError(
          file,
          l,
          cc,
          `${name}[${idx}]: the index must be a decimal number (sshm does not evaluate bash arithmetic)`,
        );
      index = Number(idx.trim());
    }
    if (name === "" || !NAME_RE.test(name) || peek() !== "=") {
      let rest = name;
      while (peek() !== "\n" && peek() !== "" && rest.length < 40) rest += advance();
      throw syntaxError(
        file,
        l,
        cc,
        `not an assignment: ${JSON.stringify(rest.trim())} (an ImageBuilder config holds only NAME=value and NAME[i]=value lines; sshm cannot run shell commands)`,
      );
    }
    advance(); // "="
    if (peek() === "(")
      throw syntaxError(
        file,
        l,
        cc,
        `${name}=( ... ): array literals are not supported, write ${name}[0]=...`,
      );
    const value = word();
    if (index === undefined) {
      scalars.set(name, value);
      arrays.delete(name);
    } else {
      let a = arrays.get(name);
      if (!a) {
        a = new Map();
        // bash: assigning NAME[i] to a scalar NAME keeps the scalar as element 0.
        const s = scalars.get(name);
        if (s !== undefined) a.set(0, s);
        scalars.delete(name);
        arrays.set(name, a);
      }
      a.set(index, value);
    }
    out.push({ name, index, value, line: l, column: cc });
    // What follows a value on the same line must be a separator, a comment or another assignment.
    const n = peek();
    if (n !== "" && n !== "\n" && n !== " " && n !== "\t" && n !== ";")
      throw syntaxError(file, line, col, `unexpected ${JSON.stringify(n)} after ${name}=${value}`);
  }
  return out;
}
