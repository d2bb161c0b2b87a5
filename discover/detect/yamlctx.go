package detect

import (
	"encoding/base64"
	"errors"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/env2vault/env2vault/secret"
)

// yamlDocs parses every document in a YAML stream. It returns what it
// could parse before an error.
func yamlDocs(content string) []*yaml.Node {
	dec := yaml.NewDecoder(strings.NewReader(content))
	var docs []*yaml.Node
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) || err != nil {
			return docs
		}
		if len(n.Content) > 0 {
			docs = append(docs, n.Content[0])
		}
	}
}

// mapGet returns the value node of key in a mapping node.
func mapGet(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return resolveAlias(m.Content[i+1])
		}
	}
	return nil
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// valueColumn is the 1-based column where a scalar's text starts (after
// an opening quote).
func valueColumn(n *yaml.Node) int {
	if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
		return n.Column + 1
	}
	return n.Column
}

// envEntry is one NAME=value pair found in a config structure.
type envEntry struct {
	key, val     string
	line, column int
}

// envEntries reads an environment block: a mapping (KEY: value) or a
// list ("KEY=value").
func envEntries(n *yaml.Node) []envEntry {
	n = resolveAlias(n)
	if n == nil {
		return nil
	}
	var out []envEntry
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], resolveAlias(n.Content[i+1])
			if v == nil || v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
				continue
			}
			out = append(out, envEntry{key: k.Value, val: v.Value, line: v.Line, column: valueColumn(v)})
		}
	case yaml.SequenceNode:
		for _, it := range n.Content {
			it = resolveAlias(it)
			if it == nil || it.Kind != yaml.ScalarNode {
				continue
			}
			k, v, ok := strings.Cut(it.Value, "=")
			if !ok {
				continue
			}
			out = append(out, envEntry{key: strings.TrimSpace(k), val: v, line: it.Line, column: valueColumn(it) + len(k) + 1})
		}
	}
	return out
}

// entryLeak classifies a structural entry and returns a Leak when it is a
// secret written into the file.
func (d *Detector) entryLeak(e envEntry, ctx string) (Leak, bool) {
	val := strings.TrimSpace(e.val)
	if val == "" || strings.Contains(val, "${") || strings.HasPrefix(val, "$") {
		return Leak{}, false
	}
	sv := secret.New(strings.Clone(val))
	v := d.ClassifyEntry(e.key, sv)
	if v.Class != ClassSecret {
		return Leak{}, false
	}
	svc := v.Service
	if svc == "" {
		svc = keyService(e.key)
	}
	return Leak{Line: e.line, Column: e.column, Rule: v.Rule, Service: svc, Key: strings.Clone(e.key),
		Reason: v.Reason, Hint: v.Hint, Context: ctx, Value: sv}, true
}

// composeLeaks finds secrets written into a docker-compose file's
// environment blocks and build args.
func (d *Detector) composeLeaks(content string) []Leak {
	var out []Leak
	for _, doc := range yamlDocs(content) {
		services := mapGet(doc, "services")
		if services == nil || services.Kind != yaml.MappingNode {
			continue
		}
		for i := 1; i < len(services.Content); i += 2 {
			svc := resolveAlias(services.Content[i])
			blocks := []*yaml.Node{mapGet(svc, "environment")}
			if b := mapGet(svc, "build"); b != nil {
				blocks = append(blocks, mapGet(b, "args"))
			}
			for _, blk := range blocks {
				for _, e := range envEntries(blk) {
					if l, ok := d.entryLeak(e, ContextCompose); ok {
						out = append(out, l)
					}
				}
			}
		}
	}
	return out
}

// ComposeEnvFiles returns the paths a docker-compose file names in its
// services' env_file entries (a string, a list of strings, or the long
// syntax with path:), in order of appearance, without duplicates.
func ComposeEnvFiles(content []byte) []string {
	var out []string
	seen := map[string]bool{}
	add := func(p string) {
		p = strings.TrimSpace(p)
		if p != "" && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, doc := range yamlDocs(string(content)) {
		services := mapGet(doc, "services")
		if services == nil || services.Kind != yaml.MappingNode {
			continue
		}
		for i := 1; i < len(services.Content); i += 2 {
			ef := mapGet(resolveAlias(services.Content[i]), "env_file")
			if ef == nil {
				continue
			}
			switch ef.Kind {
			case yaml.ScalarNode:
				add(ef.Value)
			case yaml.SequenceNode:
				for _, it := range ef.Content {
					it = resolveAlias(it)
					switch it.Kind {
					case yaml.ScalarNode:
						add(it.Value)
					case yaml.MappingNode:
						if p := mapGet(it, "path"); p != nil && p.Kind == yaml.ScalarNode {
							add(p.Value)
						}
					}
				}
			}
		}
	}
	return out
}

// workflowLeaks finds values written inline into a CI workflow's env
// blocks (workflow, job, step, service containers) and step inputs.
// ${{ secrets.X }} and other expressions are fine.
func (d *Detector) workflowLeaks(content string) []Leak {
	var out []Leak
	var walk func(n *yaml.Node, depth int)
	walk = func(n *yaml.Node, depth int) {
		n = resolveAlias(n)
		if n == nil || depth > 12 {
			return
		}
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i].Value, resolveAlias(n.Content[i+1])
				switch k {
				case "env", "with", "environment", "credentials", "variables", "secrets":
					for _, e := range envEntries(v) {
						if strings.Contains(e.val, "${{") {
							continue
						}
						if l, ok := d.entryLeak(e, ContextCI); ok {
							out = append(out, l)
						}
					}
				}
				walk(v, depth+1)
			}
		case yaml.SequenceNode:
			for _, it := range n.Content {
				walk(it, depth+1)
			}
		}
	}
	for _, doc := range yamlDocs(content) {
		walk(doc, 0)
	}
	return out
}

// kubernetesLeaks finds secrets in Kubernetes manifests: the base64 data
// and the stringData of Secrets, and literal env values and ConfigMap
// entries that classify as secrets.
func (d *Detector) kubernetesLeaks(content string) []Leak {
	var out []Leak
	for _, doc := range yamlDocs(content) {
		kind := mapGet(doc, "kind")
		if kind == nil {
			continue
		}
		switch kind.Value {
		case "Secret":
			if data := mapGet(doc, "data"); data != nil && data.Kind == yaml.MappingNode {
				for _, e := range envEntries(data) {
					dec, ok := decodeBase64(e.val)
					if !ok {
						continue
					}
					e.val = dec
					if l, ok := d.secretEntry(e); ok {
						l.Reason += " (base64 decoded)"
						out = append(out, l)
					}
				}
			}
			if sd := mapGet(doc, "stringData"); sd != nil {
				for _, e := range envEntries(sd) {
					if l, ok := d.secretEntry(e); ok {
						out = append(out, l)
					}
				}
			}
		case "ConfigMap":
			for _, e := range envEntries(mapGet(doc, "data")) {
				if l, ok := d.entryLeak(e, ContextKubernetes); ok {
					out = append(out, l)
				}
			}
		default:
			out = append(out, d.podEnvLeaks(doc)...)
		}
	}
	return out
}

// secretEntry turns one entry of a Secret manifest into a Leak: every
// value that is not empty or a placeholder is a secret there.
func (d *Detector) secretEntry(e envEntry) (Leak, bool) {
	val := e.val
	if strings.TrimSpace(val) == "" {
		return Leak{}, false
	}
	sv := secret.New(strings.Clone(val))
	v := d.ClassifyEntry(e.key, sv)
	if v.Class == ClassPlaceholder {
		return Leak{}, false
	}
	l := Leak{Line: e.line, Column: e.column, Rule: v.Rule, Service: v.Service, Key: strings.Clone(e.key),
		Reason: v.Reason, Hint: Hint(v.Service, sv), Context: ContextKubernetes, Value: sv}
	if v.Class != ClassSecret {
		l.Rule, l.Reason = RuleK8sSecret, "kubernetes secret"
	}
	if l.Service == "" {
		l.Service = keyService(e.key)
	}
	return l, true
}

// podEnvLeaks finds env: [{name, value}] entries anywhere in a manifest.
func (d *Detector) podEnvLeaks(doc *yaml.Node) []Leak {
	var out []Leak
	var walk func(n *yaml.Node, depth int)
	walk = func(n *yaml.Node, depth int) {
		n = resolveAlias(n)
		if n == nil || depth > 16 {
			return
		}
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i].Value, resolveAlias(n.Content[i+1])
				if k == "env" && v.Kind == yaml.SequenceNode {
					for _, it := range v.Content {
						name, val := mapGet(it, "name"), mapGet(it, "value")
						if name == nil || val == nil || val.Kind != yaml.ScalarNode {
							continue
						}
						e := envEntry{key: name.Value, val: val.Value, line: val.Line, column: valueColumn(val)}
						if l, ok := d.entryLeak(e, ContextKubernetes); ok {
							out = append(out, l)
						}
					}
					continue
				}
				walk(v, depth+1)
			}
		case yaml.SequenceNode:
			for _, it := range n.Content {
				walk(it, depth+1)
			}
		}
	}
	walk(doc, 0)
	return out
}

// decodeBase64 decodes a Secret data value; Kubernetes uses standard
// padded base64, sometimes folded over lines.
func decodeBase64(s string) (string, bool) {
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\n' || r == '\r' || r == '\t' {
			return -1
		}
		return r
	}, s)
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		if b, err = base64.RawStdEncoding.DecodeString(s); err != nil {
			return "", false
		}
	}
	return string(b), true
}
