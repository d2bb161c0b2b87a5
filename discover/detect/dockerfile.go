package detect

import (
	"strings"
)

// dockerfileLeaks finds secrets written into Dockerfile ARG defaults and
// ENV values (both KEY=value pairs and the legacy "ENV KEY value" form).
// Values that expand $VARIABLES are fine.
func (d *Detector) dockerfileLeaks(content string) []Leak {
	var out []Leak
	lines := strings.Split(content, "\n")
	cont := false // the previous ARG/ENV line ended with a backslash
	for i, line := range lines {
		line = strings.TrimSuffix(line, "\r")
		body, off := line, 0
		if !cont {
			trimmed := strings.TrimLeft(line, " \t")
			word, rest, _ := strings.Cut(trimmed, " ")
			instr := strings.ToUpper(word)
			if instr != "ARG" && instr != "ENV" {
				cont = false
				continue
			}
			off = len(line) - len(rest)
			body = rest
			if instr == "ENV" && !strings.Contains(firstToken(body), "=") {
				// Legacy form: ENV KEY the rest of the line.
				key := firstToken(body)
				vstart := strings.Index(body, key) + len(key)
				val := strings.TrimLeft(body[vstart:], " \t")
				col := off + len(body) - len(val) + 1
				e := envEntry{key: key, val: unquote(strings.TrimRight(val, " \t")), line: i + 1, column: col + quoteSkip(val)}
				if l, ok := d.entryLeak(e, ContextDockerfile); ok {
					out = append(out, l)
				}
				cont = false
				continue
			}
		}
		cont = strings.HasSuffix(strings.TrimRight(body, " \t"), `\`)
		for _, p := range dockerPairs(body) {
			e := envEntry{key: p.key, val: p.val, line: i + 1, column: off + p.col + 1}
			if l, ok := d.entryLeak(e, ContextDockerfile); ok {
				out = append(out, l)
			}
		}
	}
	return out
}

type dockerPair struct {
	key, val string
	col      int // 0-based offset of the value's text in the body
}

// dockerPairs splits "A=1 B="two words" C" into its KEY=value pairs.
func dockerPairs(s string) []dockerPair {
	var out []dockerPair
	i := 0
	for i < len(s) {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i >= len(s) || s[i] == '\\' || s[i] == '#' {
			break
		}
		ks := i
		for i < len(s) && s[i] != '=' && s[i] != ' ' && s[i] != '\t' {
			i++
		}
		key := s[ks:i]
		if i >= len(s) || s[i] != '=' {
			continue // ARG NAME without a default
		}
		i++
		vs := i
		var val string
		col := vs
		if i < len(s) && (s[i] == '"' || s[i] == '\'') {
			q := s[i]
			i++
			col = i
			for i < len(s) && s[i] != q {
				if s[i] == '\\' && q == '"' {
					i++
				}
				i++
			}
			val = s[col:min(i, len(s))]
			i++
		} else {
			for i < len(s) && s[i] != ' ' && s[i] != '\t' {
				i++
			}
			val = s[vs:i]
		}
		out = append(out, dockerPair{key: key, val: val, col: col})
	}
	return out
}

func firstToken(s string) string {
	s = strings.TrimLeft(s, " \t")
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		return s[:i]
	}
	return s
}

func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}

func quoteSkip(s string) int {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return 1
	}
	return 0
}
