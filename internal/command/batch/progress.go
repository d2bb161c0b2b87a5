package batch

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
)

// reporter prints a run's progress on stderr: JSON lines when stderr is
// not a terminal (CI logs, machine readers), short sentences otherwise.
// Events carry counts, stage names, secret names and file names — never
// values.
type reporter struct {
	mu   sync.Mutex
	w    io.Writer
	json bool
}

// emit prints one event: a stage, what happened, and counts or names.
func (r *reporter) emit(stage, ev string, fields map[string]any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.json {
		line := map[string]any{"stage": stage, "event": ev}
		for k, v := range fields {
			line[k] = v
		}
		b, err := json.Marshal(line)
		if err != nil { // only plain values go in; cannot happen
			b = []byte(fmt.Sprintf(`{"stage":%q,"event":"error","error":"unprintable progress"}`, stage))
		}
		fmt.Fprintln(r.w, string(b))
		return
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%v", k, fields[k]))
	}
	line := stage + ": " + ev
	if len(parts) > 0 {
		line += " (" + strings.Join(parts, ", ") + ")"
	}
	fmt.Fprintln(r.w, line)
}
