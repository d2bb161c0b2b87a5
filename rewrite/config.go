package rewrite

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/env2vault/env2vault/plan"
	"github.com/env2vault/env2vault/secret"
)

// replaceInYAML replaces every occurrence of value in a YAML file (a
// docker-compose file or a GitHub Actions workflow) by repl, working on
// the text so formatting and comments stay exactly as they were, and
// checks the result still parses. It reports false when the value does
// not appear verbatim (e.g. written with YAML escapes).
func replaceInYAML(src, value, repl string) (string, bool, error) {
	if value == "" || !strings.Contains(src, value) {
		return src, false, nil
	}
	out := strings.ReplaceAll(src, value, repl)
	dec := yaml.NewDecoder(strings.NewReader(out))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if err != nil {
			if err.Error() == "EOF" {
				break
			}
			return src, false, fmt.Errorf("the rewritten file would not be valid YAML: %w", err)
		}
	}
	return out, true, nil
}

var nonSecretName = regexp.MustCompile(`[^A-Z0-9_]`)

// GitHubSecretName returns the GitHub Actions secret name for an
// environment variable: upper case, [A-Z0-9_] only, not starting with a
// digit or the reserved GITHUB_ prefix.
func GitHubSecretName(envVar string) string {
	n := nonSecretName.ReplaceAllString(strings.ToUpper(envVar), "_")
	if n == "" || (n[0] >= '0' && n[0] <= '9') || strings.HasPrefix(n, "GITHUB_") {
		n = "SECRET_" + n
	}
	return n
}

// dockerEdit is one secret to take out of a Dockerfile.
type dockerEdit struct {
	Line  int
	Value string
	// Name is the ARG/ENV name (the secret id of the BuildKit mount).
	Name string
}

// logical is one Dockerfile instruction over physical lines [start, end).
type logical struct {
	start, end int
	text       string // continuation lines joined
}

func dockerInstructions(lines []string) []logical {
	var out []logical
	for i := 0; i < len(lines); i++ {
		t := strings.TrimSpace(lines[i])
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		l := logical{start: i}
		var parts []string
		for {
			t := strings.TrimRight(lines[i], "\r\n")
			if strings.HasSuffix(strings.TrimRight(t, " \t"), "\\") && i+1 < len(lines) {
				parts = append(parts, strings.TrimSuffix(strings.TrimRight(t, " \t"), "\\"))
				i++
				continue
			}
			parts = append(parts, t)
			break
		}
		l.end = i + 1
		l.text = strings.Join(parts, " ")
		out = append(out, l)
	}
	return out
}

// rewriteDockerfile takes secrets out of ARG and ENV instructions. An ARG
// secret becomes a BuildKit secret: the ARG goes, and every RUN in the
// same stage that uses the variable mounts it
// (RUN --mount=type=secret,id=NAME,env=NAME), which needs the
// docker/dockerfile:1 syntax (added when missing). An ENV secret is
// removed from the image and left to runtime injection. It returns the
// new file and notes on how to pass the secrets.
func rewriteDockerfile(src string, edits []dockerEdit) (string, []string, error) {
	lines := splitLines(src)
	insts := dockerInstructions(lines)
	var notes []string
	mounts := map[int][]string{} // instruction index -> secret names to mount
	replace := map[int]string{}  // instruction index -> replacement text
	for _, e := range edits {
		idx := -1
		for i, in := range insts {
			if strings.Contains(in.text, e.Value) && (idx < 0 || (e.Line-1 >= in.start && e.Line-1 < in.end)) {
				idx = i
			}
		}
		if idx < 0 {
			return src, nil, fmt.Errorf("Dockerfile line %d: the value of %s is not there any more", e.Line, e.Name)
		}
		in := insts[idx]
		fields := strings.Fields(in.text)
		switch strings.ToUpper(fields[0]) {
		case "ARG":
			name := argName(in.text)
			if name == "" {
				name = e.Name
			}
			replace[idx] = fmt.Sprintf("# %s is a BuildKit secret now: docker build --secret id=%s,env=%s (env2vault)\n", name, name, name)
			used := false
			for j := idx + 1; j < len(insts); j++ {
				f := strings.Fields(insts[j].text)
				if strings.EqualFold(f[0], "FROM") {
					break
				}
				if strings.EqualFold(f[0], "RUN") && usesVar(insts[j].text, name) {
					mounts[j] = append(mounts[j], name)
					used = true
				}
			}
			if used {
				notes = append(notes, fmt.Sprintf("build with `docker build --secret id=%s,env=%s` (BuildKit); RUN steps that used it mount it", name, name))
			} else {
				notes = append(notes, fmt.Sprintf("ARG %s was removed; no RUN step used it", name))
			}
		case "ENV":
			out, name, ok := dropEnvPair(in.text, e.Value)
			if !ok {
				return src, nil, fmt.Errorf("Dockerfile line %d: cannot take %s out of this ENV instruction; move it by hand", in.start+1, e.Name)
			}
			comment := fmt.Sprintf("# %s is injected at run time (docker run -e %s, or env2vault run) (env2vault)\n", name, name)
			if out == "" {
				replace[idx] = comment
			} else {
				replace[idx] = comment + out + "\n"
			}
			notes = append(notes, fmt.Sprintf("ENV %s was removed from the image; inject it when the container starts", name))
		default:
			return src, nil, fmt.Errorf("Dockerfile line %d: %s holds the value of %s; only ARG and ENV are rewritten, move it by hand", in.start+1, strings.ToUpper(fields[0]), e.Name)
		}
	}
	if len(replace) == 0 {
		return src, notes, nil
	}
	var b strings.Builder
	if len(mounts) > 0 && !hasSyntaxDirective(lines) {
		b.WriteString("# syntax=docker/dockerfile:1\n")
	}
	next := 0
	for i, in := range insts {
		for ; next < in.start; next++ {
			b.WriteString(lines[next])
		}
		switch {
		case replace[i] != "":
			b.WriteString(replace[i])
		case len(mounts[i]) > 0:
			first := lines[in.start]
			k := strings.Index(strings.ToUpper(first), "RUN") + len("RUN")
			var flags string
			names := mounts[i]
			sort.Strings(names)
			for _, n := range names {
				flags += fmt.Sprintf(" --mount=type=secret,id=%s,env=%s", n, n)
			}
			b.WriteString(first[:k] + flags + first[k:])
			for j := in.start + 1; j < in.end; j++ {
				b.WriteString(lines[j])
			}
		default:
			for j := in.start; j < in.end; j++ {
				b.WriteString(lines[j])
			}
		}
		next = in.end
	}
	for ; next < len(lines); next++ {
		b.WriteString(lines[next])
	}
	return b.String(), notes, nil
}

func hasSyntaxDirective(lines []string) bool {
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if !strings.HasPrefix(t, "#") {
			return false
		}
		if strings.HasPrefix(strings.ToLower(strings.ReplaceAll(t, " ", "")), "#syntax=") {
			return true
		}
	}
	return false
}

// argName returns NAME from "ARG NAME[=default]".
func argName(inst string) string {
	f := strings.Fields(inst)
	if len(f) < 2 {
		return ""
	}
	name, _, _ := strings.Cut(f[1], "=")
	return name
}

// usesVar reports whether a shell command mentions $NAME or ${NAME}.
func usesVar(cmd, name string) bool {
	re := regexp.MustCompile(`\$(\{` + regexp.QuoteMeta(name) + `[}:]|` + regexp.QuoteMeta(name) + `\b)`)
	return re.MatchString(cmd)
}

// dropEnvPair removes the pair holding value from an ENV instruction
// ("ENV K=V K2=V2" or the legacy "ENV K V"), returning what remains (""
// when nothing does) and the removed name.
func dropEnvPair(inst, value string) (string, string, bool) {
	f := strings.Fields(inst)
	if len(f) < 2 {
		return "", "", false
	}
	if !strings.Contains(f[1], "=") {
		// Legacy form: the whole rest is one value.
		return "", f[1], true
	}
	var keep []string
	name := ""
	for _, p := range f[1:] {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			return "", "", false
		}
		if name == "" && strings.Contains(v, value) {
			name = k
			continue
		}
		keep = append(keep, p)
	}
	if name == "" {
		return "", "", false
	}
	if len(keep) == 0 {
		return "", name, true
	}
	return f[0] + " " + strings.Join(keep, " "), name, true
}

// k8sEdit is one secret value to take out of a Kubernetes manifest.
type k8sEdit struct {
	Value  secret.Value
	Target plan.Target
}

// ExternalSecretStore is the (Cluster)SecretStore name the generated
// ExternalSecret resources point at.
const ExternalSecretStore = "env2vault"

// rewriteK8s takes planned values out of Kubernetes Secret manifests.
// Each Secret document loses the matching data/stringData entries and an
// external-secrets.io ExternalSecret is written in its place that
// recreates the same Secret from the backend (creationPolicy Owner), or
// merges into it when other entries remain (creationPolicy Merge).
// Documents with nothing to change are kept byte for byte.
func rewriteK8s(src string, b plan.Backend, edits []k8sEdit) (string, int, error) {
	docs := splitYAMLDocs(src)
	changed := 0
	for i, d := range docs {
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte(d.body), &doc); err != nil {
			return src, 0, fmt.Errorf("not valid YAML: %w", err)
		}
		if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
			continue
		}
		root := doc.Content[0]
		if k := mapGet(root, "kind"); k == nil || k.Value != "Secret" {
			continue
		}
		type moved struct {
			key string
			t   plan.Target
		}
		var got []moved
		for _, field := range []string{"data", "stringData"} {
			m := mapGet(root, field)
			if m == nil || m.Kind != yaml.MappingNode {
				continue
			}
			var keep []*yaml.Node
			for j := 0; j+1 < len(m.Content); j += 2 {
				k, v := m.Content[j], m.Content[j+1]
				val := v.Value
				if field == "data" {
					raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(val))
					if err != nil {
						keep = append(keep, k, v)
						continue
					}
					val = string(raw)
				}
				hit := -1
				for x, e := range edits {
					if e.Value.Reveal() == val {
						hit = x
					}
				}
				if hit < 0 {
					keep = append(keep, k, v)
					continue
				}
				got = append(got, moved{k.Value, edits[hit].Target})
			}
			m.Content = keep
		}
		if len(got) == 0 {
			continue
		}
		changed += len(got)
		meta := mapGet(root, "metadata")
		name, ns := "", ""
		if n := mapGet(meta, "name"); n != nil {
			name = n.Value
		}
		if n := mapGet(meta, "namespace"); n != nil {
			ns = n.Value
		}
		remaining := 0
		for _, field := range []string{"data", "stringData"} {
			if m := mapGet(root, field); m != nil {
				remaining += len(m.Content) / 2
			}
		}
		es := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		es.HeadComment = fmt.Sprintf("Secret %s now comes from %s through External Secrets Operator\n"+
			"(external-secrets.io). Create a ClusterSecretStore named %q for it (env2vault).",
			name, backendTitle(b), ExternalSecretStore)
		add := func(m *yaml.Node, k string, v *yaml.Node) { m.Content = append(m.Content, scalar(k), v) }
		add(es, "apiVersion", scalar("external-secrets.io/v1"))
		add(es, "kind", scalar("ExternalSecret"))
		md := mapping("name", name)
		if ns != "" {
			add(md, "namespace", scalar(ns))
		}
		add(es, "metadata", md)
		spec := mapping("refreshInterval", "1h")
		add(spec, "secretStoreRef", mapping("kind", "ClusterSecretStore", "name", ExternalSecretStore))
		policy := "Owner"
		if remaining > 0 {
			policy = "Merge"
		}
		add(spec, "target", mapping("name", name, "creationPolicy", policy))
		data := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for _, g := range got {
			ref := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			switch b.Kind {
			case plan.BackendGCP:
				add(ref, "key", scalar(g.t.SecretID))
			case plan.BackendAWS:
				add(ref, "key", scalar(g.t.Name))
			default:
				field := g.t.Field
				if field == "" {
					field = "value"
				}
				add(ref, "key", scalar(g.t.Mount+"/"+g.t.Path))
				add(ref, "property", scalar(field))
			}
			item := mapping("secretKey", g.key)
			add(item, "remoteRef", ref)
			data.Content = append(data.Content, item)
		}
		add(spec, "data", data)
		add(es, "spec", spec)
		var body string
		if remaining > 0 {
			kept, err := encodeYAML(&doc)
			if err != nil {
				return src, 0, err
			}
			esText, err := encodeYAML(es)
			if err != nil {
				return src, 0, err
			}
			body = kept + "---\n" + esText
		} else {
			esText, err := encodeYAML(es)
			if err != nil {
				return src, 0, err
			}
			body = esText
		}
		docs[i].body = body
	}
	if changed == 0 {
		return src, 0, nil
	}
	var b2 strings.Builder
	for _, d := range docs {
		b2.WriteString(d.sep)
		b2.WriteString(d.body)
	}
	return b2.String(), changed, nil
}

func backendTitle(b plan.Backend) string {
	switch b.Kind {
	case plan.BackendGCP:
		return "Google Secret Manager"
	case plan.BackendAWS:
		return "AWS Secrets Manager"
	default:
		return "HashiCorp Vault"
	}
}

type yamlDoc struct{ sep, body string }

// splitYAMLDocs splits a multi-document YAML file at "---" lines, keeping
// each separator with the document after it.
func splitYAMLDocs(src string) []yamlDoc {
	var docs []yamlDoc
	cur := yamlDoc{}
	for _, l := range splitLines(src) {
		if strings.TrimRight(l, " \t\r\n") == "---" {
			if cur.sep != "" || cur.body != "" {
				docs = append(docs, cur)
			}
			cur = yamlDoc{sep: l}
			continue
		}
		cur.body += l
	}
	return append(docs, cur)
}
