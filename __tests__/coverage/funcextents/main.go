// Command funcextents prints, for each Go file named on stdin, the function declarations that
// cmd/cover's FuncVisitor counts (go/parser, a body required), as JSON lines: the reference that
// go-ship's own scanner (src/coverage/funcs.ts) is tested against. Files go/parser refuses are
// reported with "error" and left out of the comparison.
package main

import (
	"bufio"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
)

type extent struct {
	Name      string `json:"name"`
	StartLine int    `json:"startLine"`
	StartCol  int    `json:"startCol"`
	EndLine   int    `json:"endLine"`
	EndCol    int    `json:"endCol"`
}

type result struct {
	File  string   `json:"file"`
	Error bool     `json:"error,omitempty"`
	Funcs []extent `json:"funcs"`
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		name := in.Text()
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, name, nil, 0)
		r := result{File: name, Funcs: []extent{}}
		if err != nil {
			r.Error = true
		} else {
			for _, d := range f.Decls {
				fn, ok := d.(*ast.FuncDecl)
				if !ok || fn.Body == nil {
					continue
				}
				// Unadjusted positions: //line directives are a separate question.
				s, e := fset.PositionFor(fn.Pos(), false), fset.PositionFor(fn.End(), false)
				r.Funcs = append(r.Funcs, extent{fn.Name.Name, s.Line, s.Column, e.Line, e.Column})
			}
		}
		if err := out.Encode(r); err != nil {
			panic(err)
		}
	}
}
