package rewrite

import (
	"sort"
	"strings"
)

// envEntry is one KEY=VALUE assignment in a .env file, spanning lines
// [start, end) (a quoted value may run over several lines).
type envEntry struct {
	key        string
	start, end int
	export     bool
	// comment is a trailing "# ..." after the value, kept on rewrite.
	comment string
}

// splitLines splits text into lines, each keeping its "\n" (the last may
// lack one).
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

func isKeyStart(c byte) bool {
	return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
}

func isKeyChar(c byte) bool {
	return isKeyStart(c) || (c >= '0' && c <= '9') || c == '.' || c == '-'
}

// parseEnv finds the assignments in a .env file. Lines it does not
// understand are skipped (they are kept verbatim on rewrite).
func parseEnv(src string) []envEntry {
	lines := splitLines(src)
	var out []envEntry
	for i := 0; i < len(lines); i++ {
		line := strings.TrimRight(lines[i], "\r\n")
		s := strings.TrimLeft(line, " \t")
		if s == "" || s[0] == '#' {
			continue
		}
		e := envEntry{start: i, end: i + 1}
		if rest, ok := strings.CutPrefix(s, "export "); ok {
			e.export = true
			s = strings.TrimLeft(rest, " \t")
		}
		j := 0
		if j >= len(s) || !isKeyStart(s[j]) {
			continue
		}
		for j < len(s) && isKeyChar(s[j]) {
			j++
		}
		e.key = s[:j]
		s = strings.TrimLeft(s[j:], " \t")
		if s == "" || (s[0] != '=' && s[0] != ':') {
			continue
		}
		val := strings.TrimLeft(s[1:], " \t")
		if val != "" && (val[0] == '"' || val[0] == '\'') {
			q := val[0]
			body := val[1:]
			k := i
			for {
				if end := closingQuote(body, q); end >= 0 {
					e.comment = trailingComment(body[end+1:])
					break
				}
				if k+1 >= len(lines) {
					// Unterminated: treat the rest of the line as the value.
					break
				}
				k++
				body = strings.TrimRight(lines[k], "\r\n")
			}
			e.end = k + 1
		} else if h := strings.Index(val, " #"); h >= 0 {
			e.comment = strings.TrimSpace(val[h:])
		} else if h := strings.Index(val, "\t#"); h >= 0 {
			e.comment = strings.TrimSpace(val[h:])
		}
		out = append(out, e)
		i = e.end - 1
	}
	return out
}

// closingQuote returns the index of the quote q closing body, honouring
// backslash escapes inside double quotes, or -1.
func closingQuote(body string, q byte) int {
	for i := 0; i < len(body); i++ {
		if q == '"' && body[i] == '\\' {
			i++
			continue
		}
		if body[i] == q {
			return i
		}
	}
	return -1
}

func trailingComment(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "#") {
		return s
	}
	return ""
}

// rewriteEnv replaces the value of every assignment of a key in refs by
// its reference, keeping "export" and trailing comments, and returns the
// keys it rewrote.
func rewriteEnv(src string, refs map[string]string) (string, []string) {
	lines := splitLines(src)
	entries := parseEnv(src)
	done := map[string]bool{}
	// Walk backwards so line indexes stay valid while spans collapse.
	for k := len(entries) - 1; k >= 0; k-- {
		e := entries[k]
		ref, ok := refs[e.key]
		if !ok {
			continue
		}
		indent := lines[e.start][:len(lines[e.start])-len(strings.TrimLeft(lines[e.start], " \t"))]
		nl := "\n"
		last := lines[e.end-1]
		if strings.HasSuffix(last, "\r\n") {
			nl = "\r\n"
		} else if !strings.HasSuffix(last, "\n") {
			nl = ""
		}
		var b strings.Builder
		b.WriteString(indent)
		if e.export {
			b.WriteString("export ")
		}
		b.WriteString(e.key + "=" + ref)
		if e.comment != "" {
			b.WriteString(" " + e.comment)
		}
		b.WriteString(nl)
		repl := []string{b.String()}
		lines = append(lines[:e.start], append(repl, lines[e.end:]...)...)
		done[e.key] = true
	}
	keys := make([]string, 0, len(done))
	for k := range done {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(lines, ""), keys
}

// envKeys returns the keys a .env file assigns, in first-seen order.
func envKeys(src string) []string {
	seen := map[string]bool{}
	var keys []string
	for _, e := range parseEnv(src) {
		if !seen[e.key] {
			seen[e.key] = true
			keys = append(keys, e.key)
		}
	}
	return keys
}

// envExampleHeader starts a .env.example that rewrite creates.
const envExampleHeader = "# Keys this service reads. Secrets live in the vault: keep values out of\n# this file (env2vault).\n"

// updateEnvExample returns .env.example listing keys: existing lines stay,
// secret keys lose their example values (placeholders that look like keys
// are what scanners and people copy), and missing keys are appended
// without values.
func updateEnvExample(existing string, keys []string, secretKeys map[string]bool) string {
	lines := splitLines(existing)
	present := map[string]bool{}
	for _, e := range parseEnv(existing) {
		present[e.key] = true
		if !secretKeys[e.key] {
			continue
		}
		nl := "\n"
		if !strings.HasSuffix(lines[e.end-1], "\n") {
			nl = ""
		}
		prefix := ""
		if e.export {
			prefix = "export "
		}
		lines[e.start] = prefix + e.key + "=" + nl
		for i := e.start + 1; i < e.end; i++ {
			lines[i] = ""
		}
	}
	out := strings.Join(lines, "")
	var missing []string
	for _, k := range keys {
		if !present[k] {
			missing = append(missing, k)
			present[k] = true
		}
	}
	if len(missing) == 0 {
		return out
	}
	if out == "" {
		out = envExampleHeader
	} else if !strings.HasSuffix(out, "\n") {
		out += "\n"
	}
	for _, k := range missing {
		out += k + "=\n"
	}
	return out
}
