package render

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"text/template"
	"text/template/parse"
	"time"

	"github.com/appnet/appnet-agent/internal/validate"
)

// Bounds on one template execution (issue 16, item 6). text/template cannot be preempted, and
// an overlay can loop for ever ({{range 100000000000}}), recurse ({{template}} or include
// calling itself) or build huge values (repeat, until, a string doubled in a loop). So:
//
//   - a guard call is put into the parse tree at the start of every range body and at the
//     start and end of every template body: it stops the execution past its deadline
//     (APPNET_TEMPLATE_TIMEOUT_MS) or when the render is cancelled (a shutdown signal), and
//     past MaxTemplateDepth nested templates (include counts);
//   - every function a template calls is wrapped: the same checks first, then its arguments
//     and its result must each hold at most MaxRenderedBytes (a list's elements count at least
//     8 bytes each, so a cycle or a list of a billion empty strings stops too), and the
//     functions whose result can be far larger than their arguments (repeat, until, seq,
//     indent, replace, join, printf, ...) are checked before they allocate;
//   - the output (also include's) goes to a buffer that stops growing past MaxRenderedBytes;
//     the next guard call, or the end of the execution, reports it.
//
// Every such error names the template file and line (text/template's location of the range,
// template or call), mapped to the overlay file by Templates.explain.
const (
	// MaxRenderedBytes bounds the rendered text and every value a template builds: the
	// bootstrap limit applies to what a template renders too.
	MaxRenderedBytes = validate.MaxDocumentBytes
	// MaxTemplateDepth bounds nested template executions ({{template}}, include).
	MaxTemplateDepth = 100
	// DefaultTemplateTimeout is APPNET_TEMPLATE_TIMEOUT_MS's default, for callers without a
	// loaded configuration.
	DefaultTemplateTimeout = 2 * time.Second
)

// Names of the guard functions put into the parse tree; the leading underscore keeps them
// apart from anything a template calls itself.
const (
	guardLoop  = "_guardLoop"
	guardEnter = "_guardEnter"
	guardLeave = "_guardLeave"
)

// guard is the state of one execution.
type guard struct {
	ctx      context.Context
	depth    int
	overflow bool  // a capped buffer refused bytes
	stopped  bool  // a check failed: the execution is being stopped
	first    error // the innermost include's error once stopped (see Templates.include)
}

// errTooLarge is reported once the output passed MaxRenderedBytes.
var errTooLarge = fmt.Errorf("the rendered text is larger than %d MiB, the bootstrap limit", MaxRenderedBytes>>20)

// check is the guard every range iteration, template entry and function call passes.
func (g *guard) check() error {
	switch {
	case g == nil:
		return nil
	case g.overflow:
		return g.stop(errTooLarge)
	case g.ctx.Err() != nil:
		return g.stop(context.Cause(g.ctx))
	}
	return nil
}

// stop marks the execution as stopped by a guard and returns err.
func (g *guard) stop(err error) error {
	if g != nil {
		g.stopped = true
	}
	return err
}

func (g *guard) enter() (string, error) {
	if err := g.check(); err != nil {
		return "", err
	}
	if g != nil {
		if g.depth++; g.depth > MaxTemplateDepth {
			return "", g.stop(fmt.Errorf("templates nested more than %d deep (a template or include that calls itself?)", MaxTemplateDepth))
		}
	}
	return "", nil
}

func (g *guard) leave() (string, error) {
	if g != nil {
		g.depth--
	}
	return "", g.check()
}

func (g *guard) loop() (string, error) { return "", g.check() }

// cappedBuffer is an output buffer that stops growing past MaxRenderedBytes and tells the guard.
type cappedBuffer struct {
	strings.Builder
	g *guard
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > MaxRenderedBytes {
		if b.g != nil {
			b.g.overflow = true
		}
		return len(p), nil // dropped; the next guard call reports it with its location
	}
	return b.Builder.Write(p)
}

// instrument puts the guard calls into every template's parse tree not in seen, and adds it there.
func instrument(set *template.Template, seen map[*parse.Tree]bool) {
	for _, t := range set.Templates() {
		tree := t.Tree
		if tree == nil || tree.Root == nil || seen[tree] {
			continue
		}
		seen[tree] = true
		root := tree.Root
		end := root.Position()
		if n := len(root.Nodes); n > 0 {
			end = root.Nodes[n-1].Position()
		}
		root.Nodes = append([]parse.Node{guardCall(tree, guardEnter, root.Position())}, root.Nodes...)
		root.Nodes = append(root.Nodes, guardCall(tree, guardLeave, end))
		instrumentList(tree, root)
	}
}

func instrumentList(tree *parse.Tree, list *parse.ListNode) {
	if list == nil {
		return
	}
	for _, n := range list.Nodes {
		switch n := n.(type) {
		case *parse.RangeNode:
			if n.List == nil {
				n.List = &parse.ListNode{NodeType: parse.NodeList, Pos: n.Pos}
			}
			instrumentList(tree, n.List)
			n.List.Nodes = append([]parse.Node{guardCall(tree, guardLoop, n.Pos)}, n.List.Nodes...)
			instrumentList(tree, n.ElseList)
		case *parse.IfNode:
			instrumentList(tree, n.List)
			instrumentList(tree, n.ElseList)
		case *parse.WithNode:
			instrumentList(tree, n.List)
			instrumentList(tree, n.ElseList)
		}
	}
}

// guardCall is the action {{name}} at pos of tree (it prints nothing).
func guardCall(tree *parse.Tree, name string, pos parse.Pos) *parse.ActionNode {
	ident := parse.NewIdentifier(name).SetTree(tree).SetPos(pos)
	cmd := &parse.CommandNode{NodeType: parse.NodeCommand, Pos: pos, Args: []parse.Node{ident}}
	pipe := &parse.PipeNode{NodeType: parse.NodePipe, Pos: pos, Cmds: []*parse.CommandNode{cmd}}
	return &parse.ActionNode{NodeType: parse.NodeAction, Pos: pos, Pipe: pipe}
}

// guardMessage rewrites text/template's report of a guard call into plain words.
var guardMessage = strings.NewReplacer(
	"at <"+guardLoop+">: error calling "+guardLoop+": ", "in a range: ",
	"at <"+guardEnter+">: error calling "+guardEnter+": ", "",
	"at <"+guardLeave+">: error calling "+guardLeave+": ", "",
)

// functionsUsed lists the names the templates call (identifiers in their parse trees), those of
// trees in done left out, and whether they call a template with a {{template}} action.
func functionsUsed(set *template.Template, done map[*parse.Tree]bool) (used map[string]bool, callsTemplate bool) {
	used = map[string]bool{}
	for _, t := range set.Templates() {
		if t.Tree != nil && !done[t.Tree] && addIdentifiers(t.Tree.Root, used) {
			callsTemplate = true
		}
	}
	return used, callsTemplate
}

// addIdentifiers adds the names called under n (its identifiers: functions and builtins) to used,
// and reports whether n calls a template with a {{template}} action.
func addIdentifiers(n parse.Node, used map[string]bool) (callsTemplate bool) {
	inspect(n, func(n parse.Node) {
		switch n := n.(type) {
		case *parse.IdentifierNode:
			used[n.Ident] = true
		case *parse.TemplateNode:
			callsTemplate = true
		}
	})
	return callsTemplate
}

// inspect calls f for n and every node under it, in the order of the source text; nil lists and
// pipelines (an absent else, a range without one) are skipped.
func inspect(n parse.Node, f func(parse.Node)) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		f(n)
		for _, c := range n.Nodes {
			inspect(c, f)
		}
	case *parse.PipeNode:
		if n == nil {
			return
		}
		f(n)
		for _, c := range n.Cmds {
			inspect(c, f)
		}
	case *parse.ActionNode:
		f(n)
		inspect(n.Pipe, f)
	case *parse.CommandNode:
		f(n)
		for _, a := range n.Args {
			inspect(a, f)
		}
	case *parse.ChainNode:
		f(n)
		inspect(n.Node, f)
	case *parse.RangeNode:
		f(n)
		inspectBranch(&n.BranchNode, f)
	case *parse.IfNode:
		f(n)
		inspectBranch(&n.BranchNode, f)
	case *parse.WithNode:
		f(n)
		inspectBranch(&n.BranchNode, f)
	case *parse.TemplateNode:
		f(n)
		inspect(n.Pipe, f)
	case nil:
	default:
		f(n)
	}
}

func inspectBranch(n *parse.BranchNode, f func(parse.Node)) {
	inspect(n.Pipe, f)
	inspect(n.List, f)
	inspect(n.ElseList, f)
}

// errorType is the type of error, for the functions that return one.
var errorType = reflect.TypeFor[error]()

// guarded wraps fn (a template function) in the checks of the current execution's guard g():
// before the call the guard and the arguments' size (and the function's own precheck), after
// it the result's size. A check that fails is the function's error (text/template turns a
// panic in a function into its error too, for functions without one).
func guarded(name string, fn any, g func() *guard) any {
	v := reflect.ValueOf(fn)
	typ := v.Type()
	pre := prechecks[name]
	returnsErr := typ.NumOut() == 2 && typ.Out(1) == errorType
	fail := func(err error) []reflect.Value {
		err = g().stop(fmt.Errorf("%s: %w", name, err))
		if !returnsErr {
			panic(err)
		}
		return []reflect.Value{reflect.Zero(typ.Out(0)), reflect.ValueOf(&err).Elem()}
	}
	return reflect.MakeFunc(typ, func(args []reflect.Value) []reflect.Value {
		if err := g().check(); err != nil {
			return fail(err)
		}
		total := 0
		for _, a := range args {
			total += sizeOf(a, MaxRenderedBytes-total)
			if total > MaxRenderedBytes {
				return fail(fmt.Errorf("its arguments hold more than %d MiB", MaxRenderedBytes>>20))
			}
		}
		if pre != nil {
			if err := pre(args); err != nil {
				return fail(err)
			}
		}
		var out []reflect.Value
		if typ.IsVariadic() {
			out = v.CallSlice(args)
		} else {
			out = v.Call(args)
		}
		if sizeOf(out[0], MaxRenderedBytes) > MaxRenderedBytes {
			return fail(fmt.Errorf("its result holds more than %d MiB", MaxRenderedBytes>>20))
		}
		return out
	}).Interface()
}

// sizeOf estimates the bytes v holds: strings by length, each element of a list or map at
// least 8 bytes (16 for a map entry) plus its content, anything else 8. It stops counting past
// limit, so a huge value costs little to measure, and a value that contains itself (a dict
// set into itself: printing it would never end) or nests deeper than maxNesting counts as
// over the limit. Structs (the template data) count 8: they are the agent's, not built by a
// template.
func sizeOf(v reflect.Value, limit int) int {
	n := 0
	open := map[uintptr]bool{} // the maps and slices being walked: a cycle comes back to one
	var walk func(v reflect.Value, depth int)
	walk = func(v reflect.Value, depth int) {
		if n > limit || !v.IsValid() {
			return
		}
		if depth > maxNesting {
			n = limit + 1
			return
		}
		switch v.Kind() {
		case reflect.Interface, reflect.Pointer:
			if !v.IsNil() && (v.Kind() == reflect.Interface || v.Elem().Kind() != reflect.Struct) {
				walk(v.Elem(), depth)
			} else {
				n += 8
			}
		case reflect.String:
			n += v.Len()
		case reflect.Slice, reflect.Array, reflect.Map:
			if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8 {
				n += v.Len()
				return
			}
			if v.Kind() != reflect.Array && v.Len() > 0 {
				p := uintptr(v.UnsafePointer())
				if open[p] {
					n = limit + 1
					return
				}
				open[p] = true
				defer delete(open, p)
			}
			if v.Kind() == reflect.Map {
				n += 16 * v.Len()
				for it := v.MapRange(); it.Next() && n <= limit; {
					walk(it.Key(), depth+1)
					walk(it.Value(), depth+1)
				}
				return
			}
			n += 8 * v.Len()
			for i := 0; i < v.Len() && n <= limit; i++ {
				walk(v.Index(i), depth+1)
			}
		default:
			n += 8
		}
	}
	walk(v, 0)
	return n
}

// maxNesting bounds how deep lists and maps built by templates may nest.
const maxNesting = 100

// timeoutCause is the context cause when a render's templates ran out of time. Its text is
// made only when reported: every execution makes one, and formatting it up front was fmt's
// first use in a start (~60 µs).
func timeoutCause(d time.Duration) error { return templateTimeout(d) }

type templateTimeout time.Duration

func (d templateTimeout) Error() string {
	return "the templates took longer than " + time.Duration(d).String() + " (APPNET_TEMPLATE_TIMEOUT_MS)"
}
