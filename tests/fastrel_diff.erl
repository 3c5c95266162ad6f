%% SPDX-License-Identifier: Apache-2.0
%% @doc Differential test of `relnif:make_script/2' against `systools:make_script/2'.
%%
%% Each case is a random release corpus written to `_build/diff/<Seed>-<I>' as text
%% (`.rel', `.app', optionally `.beam'/`.erl' files). Both tools run in this VM, one after
%% the other, with the case directory as cwd (both resolve relative names against it and
%% both see `"."' on the code path), each writing into its own output directory. Return
%% values, `.boot' bytes, `.script' bytes and the formatted error/warning texts must agree.
%%
%% A case is a pure function of `{Seed, I}': `run_case/2' rebuilds and reruns one.
%% The subject can be switched to systools itself (`run/3' with `#{subject => systools}')
%% to check the generator's outcome mix without depending on relnif.
-module(fastrel_diff).

-export([run/2, run/3, run_case/2, run_case/3,
         summary_line/2, detail_lines/2, distribution/1, format_mismatch/1,
         cycle_fixture/1, call_in_dir/5]).

-type case_info() :: #{index := pos_integer(), dir := file:filename(), outcome := string(),
                       kinds := [atom()], injected := atom(), ref_ms := non_neg_integer(),
                       sub_ms := non_neg_integer(), exref := boolean(),
                       src_tests := boolean()}.
-type mismatch() :: #{index := pos_integer(), seed := integer(), dir := file:filename(),
                      kinds := [atom()], rel := string(), options := [term()],
                      systools := term(), subject := term(), details := [term()]}.
-export_type([case_info/0, mismatch/0]).

%% The reference tool never legitimately needs this long; relnif is killed after it.
-define(TOOL_TIMEOUT, 60000).
%% Fixed mtimes make src_tests outcomes independent of the wall clock.
-define(T_BEAM, {{2020, 6, 1}, {12, 0, 0}}).
-define(T_OLD, {{2020, 5, 1}, {12, 0, 0}}).
-define(T_NEW, {{2020, 7, 1}, {12, 0, 0}}).
%% Preloaded modules some apps list; they have no .beam of their own in the app dir.
-define(PRELOADED_PICKS, [zlib, prim_file, erts_internal, atomics]).

%%% ================================================================ API

%% @doc `N' random cases from `Seed', relnif against systools.
-spec run(pos_integer(), integer()) -> {[case_info()], [mismatch()]}.
run(N, Seed) -> run(N, Seed, #{}).

%% @doc As `run/2'. Options: `subject => relnif | systools | Map' (default relnif; a map
%% has the keys make/2, module, format_error/1 and format_warning/1),
%% `dir => BaseDir' (default `_build/diff' under the cwd), `keep => boolean()' (keep
%% matching case directories too), `progress => boolean()'.
-spec run(pos_integer(), integer(), map()) -> {[case_info()], [mismatch()]}.
run(N, Seed, Opts) when is_integer(N), N > 0, is_integer(Seed) ->
    Ctx = context(Seed, Opts),
    Results = [one_case(Ctx, I) || I <- lists:seq(1, N)],
    {[C || {C, _} <- Results], [M || {_, M} <- Results, M =/= none]}.

%% @doc Rebuilds and reruns case `I' of `Seed' (the directory is kept).
-spec run_case(integer(), pos_integer()) -> {case_info(), mismatch() | none}.
run_case(Seed, I) -> run_case(Seed, I, #{}).

-spec run_case(integer(), pos_integer(), map()) -> {case_info(), mismatch() | none}.
run_case(Seed, I, Opts) ->
    one_case(context(Seed, maps:merge(#{keep => true}, Opts)), I).

%% @doc The one-line summary the EUnit test prints.
-spec summary_line([case_info()], [mismatch()]) -> string().
summary_line(Cases, Mismatches) ->
    Errors = length([C || #{outcome := "error" ++ _} = C <- Cases]),
    Warnings = length([C || #{outcome := "warnings" ++ _} = C <- Cases]),
    lists:flatten(io_lib:format("differential: ~w cases, ~w mismatches, ~w error cases, ~w warning cases",
                                [length(Cases), length(Mismatches), Errors, Warnings])).

%% @doc Mismatch counts per kind, timings and the outcome distribution, for humans.
-spec detail_lines([case_info()], [mismatch()]) -> string().
detail_lines(Cases, Mismatches) ->
    Kinds = count([K || #{kinds := Ks} <- Mismatches, K <- Ks]),
    RefMs = lists:sum([T || #{ref_ms := T} <- Cases]),
    SubMs = lists:sum([T || #{sub_ms := T} <- Cases]),
    lists:flatten(
      [io_lib:format("mismatch kinds: ~ts~n", [kv(Kinds)]),
       io_lib:format("time in systools: ~w ms, in subject: ~w ms; exref cases: ~w, src_tests cases: ~w~n",
                     [RefMs, SubMs, length([x || #{exref := true} <- Cases]),
                      length([x || #{src_tests := true} <- Cases])]),
       "outcomes (systools):\n",
       [io_lib:format("  ~5w  ~ts~n", [Cnt, Label]) || {Label, Cnt} <- distribution(Cases)]]).

%% @doc How many cases ended in each systools outcome, most frequent first.
-spec distribution([case_info()]) -> [{string(), pos_integer()}].
distribution(Cases) ->
    lists:reverse(lists:keysort(2, count([O || #{outcome := O} <- Cases]))).

%% @doc A mismatch as text: what differed, the options and both results (depth-limited).
-spec format_mismatch(mismatch()) -> string().
format_mismatch(#{index := I, seed := Seed, dir := Dir, kinds := Kinds, rel := Rel,
                  options := Opts, systools := Ref, subject := Sub, details := Details}) ->
    lists:flatten(
      io_lib:format("case ~w-~w ~w~n  dir: ~ts~n  rerun: fastrel_diff:run_case(~w, ~w)~n"
                    "  call: make_script(~tp, ~tp)~n  systools: ~tP~n  subject:  ~tP~n~ts",
                    [Seed, I, Kinds, Dir, Seed, I, Rel, Opts, Ref, 25, Sub, 25,
                     [io_lib:format("  ~tP~n", [D, 40]) || D <- Details]])).

%% @doc A release whose included_applications form a cycle (`pair': a includes b
%% includes a; `self': a includes a), on which systools loops forever.
%% Returns the directory, the release name and the options to run it with.
-spec cycle_fixture(pair | self) -> {file:filename(), string(), [term()]}.
cycle_fixture(Kind) ->
    Dir = filename:join(base_dir(#{}), "cycle-" ++ atom_to_list(Kind)),
    _ = file:del_dir_r(Dir),
    Incs = case Kind of
               pair -> #{ca => [cb], cb => [ca]};
               self -> #{ca => [ca], cb => []}
           end,
    App = fun(Name) ->
                  {application, Name,
                   [{description, "cycle"}, {vsn, "1.0"}, {modules, []}, {registered, []},
                    {applications, [kernel, stdlib]},
                    {included_applications, maps:get(Name, Incs)}]}
          end,
    [write_file(filename:join([Dir, "lib", atom_to_list(A) ++ "-1.0", "ebin", atom_to_list(A) ++ ".app"]),
                io_lib:format("~tp.~n", [App(A)])) || A <- [ca, cb]],
    Rel = {release, {"cyc", "1"}, {erts, erlang:system_info(version)},
           [{A, maps:get(vsn, otp_app(A))} || A <- [kernel, stdlib, sasl]]
           ++ [{ca, "1.0"}, {cb, "1.0"}]},
    write_file(filename:join(Dir, "cyc.rel"), io_lib:format("~tp.~n", [Rel])),
    ok = filelib:ensure_dir(filename:join([Dir, "out", "x"])),
    {Dir, "cyc", [silent, {path, ["lib/*/ebin"]}, {outdir, "out"}]}.

%% @doc `make_script(Rel, Opts)' of `Tool' with `Dir' as cwd, in a fresh process, giving
%% up after `Timeout' ms (`timeout'). Exceptions come back as `{raised, Class, Reason}'.
-spec call_in_dir(relnif | systools, file:filename(), string(), [term()], timeout()) -> term().
call_in_dir(Tool, Dir, Rel, Opts, Timeout) ->
    #{make := Make} = subject(Tool),
    with_cwd(Dir, fun() -> call_with_timeout(fun() -> Make(Rel, Opts) end, Timeout) end).

%%% ================================================================ running a case

context(Seed, Opts) ->
    #{seed => Seed, base => base_dir(Opts),
      subject => subject(maps:get(subject, Opts, relnif)),
      keep => maps:get(keep, Opts, false),
      progress => maps:get(progress, Opts, false),
      otp => maps:from_list([{A, otp_app(A)} || A <- [kernel, stdlib, sasl]]),
      extra_otp => extra_otp_apps(),
      dummy_beam => dummy_beam(),
      root => code:root_dir(),
      unicode_names => file:native_name_encoding() =:= utf8}.

base_dir(Opts) ->
    Base = maps:get(dir, Opts, filename:absname(filename:join("_build", "diff"))),
    ok = filelib:ensure_dir(filename:join(Base, "x")),
    Base.

otp_app(A) ->
    _ = application:load(A),
    {ok, Vsn} = application:get_key(A, vsn),
    AppFile = filename:join(filename:join(code:lib_dir(A), "ebin"), atom_to_list(A) ++ ".app"),
    {ok, [Term]} = file:consult(AppFile),
    #{vsn => Vsn, term => Term}.

%% OTP applications (beyond kernel/stdlib/sasl) whose dependencies are only those three:
%% they bring real-world .app texts into some releases at no setup cost.
extra_otp_apps() ->
    Cands = [compiler, crypto, syntax_tools, tools, runtime_tools, parsetools, xmerl, asn1],
    [{A, V} || A <- Cands,
               _ <- [application:load(A)],
               {ok, V} <- [application:get_key(A, vsn)],
               {ok, Deps} <- [application:get_key(A, applications)],
               Deps -- [kernel, stdlib, sasl] =:= []].

dummy_beam() ->
    {ok, _, Bin} = compile:forms([{attribute, 1, module, fastrel_diff_dummy}, {attribute, 1, export, []}],
                                 [binary]),
    Bin.

%% A map is taken as is (used to check that the harness notices planted differences).
subject(#{make := _, module := _, format_error := _, format_warning := _} = S) -> S;
subject(relnif) ->
    #{name => relnif, module => relnif,
      make => fun(R, O) -> relnif:make_script(R, O) end,
      format_error => fun(E) -> relnif:format_error(E) end,
      format_warning => fun(W) -> relnif:format_warning(W) end};
subject(systools) ->
    #{name => systools, module => systools_make,
      make => fun(R, O) -> systools:make_script(R, O) end,
      format_error => fun(E) -> lists:flatten(systools_make:format_error(E)) end,
      format_warning => fun(W) -> lists:flatten(systools_make:format_warning(W)) end}.

one_case(#{seed := Seed, base := Base, subject := Subject, keep := Keep} = Ctx, I) ->
    Dir = filename:join(Base, integer_to_list(Seed) ++ "-" ++ integer_to_list(I)),
    _ = file:del_dir_r(Dir),
    ok = filelib:ensure_dir(filename:join(Dir, "x")),
    rand:seed(exsss, {Seed, I, 16#f457}),
    Case = generate(Ctx#{dir => Dir}, I),
    write_case(Dir, Case),
    %% What to type to replay the case by hand (kept only with the directory).
    write_file(filename:join(Dir, "case.eterm"),
               io_lib:format("~tp.~n", [{maps:get(rel_name, Case), maps:get(opts, Case),
                                         {injected, maps:get(injected, Case, none)}}])),
    {Ref, Sub} = with_code_path(maps:get(exref, Case),
                                fun() -> {run_tool(Dir, subject(systools), Case, "sys"),
                                          run_tool(Dir, Subject, Case, "rn")}
                                end),
    {Kinds, Details} = compare(Ref, Sub),
    Info = #{index => I, dir => Dir, outcome => outcome(maps:get(result, Ref)), kinds => Kinds,
             ref_ms => maps:get(ms, Ref), sub_ms => maps:get(ms, Sub),
             injected => maps:get(injected, Case, none),
             exref => maps:get(exref, Case), src_tests => lists:member(src_tests, maps:get(opts, Case))},
    maps:get(progress, Ctx) andalso io:format(user, "~w: ~ts ~w~n", [I, maps:get(outcome, Info), Kinds]),
    case Kinds of
        [] ->
            Keep orelse file:del_dir_r(Dir),
            {Info, none};
        _ ->
            M = #{index => I, seed => Seed, dir => Dir, kinds => Kinds,
                  rel => maps:get(rel_name, Case), options => maps:get(opts, Ref),
                  systools => maps:get(result, Ref), subject => maps:get(result, Sub),
                  details => Details},
            write_file(filename:join(Dir, "MISMATCH.txt"), format_mismatch(M)),
            {Info, M}
    end.

%% Options as the tool sees them: the `{outdir, {tool, Pre, Post}}' placeholder becomes
%% the tool's own directory, so the two tools never overwrite each other.
run_tool(Dir, #{make := Make, module := Mod} = Subject, #{rel_name := Rel, opts := Opts0}, Tag) ->
    Opts = [case O of
                {outdir, {tool, Pre, Post}} -> {outdir, Pre ++ Tag ++ Post};
                _ -> O
            end || O <- Opts0],
    {outdir, OutDir} = lists:keyfind(outdir, 1, Opts),
    ok = filelib:ensure_dir(filename:join([Dir, OutDir, "x"])),
    Base = case lists:keyfind(script_name, 1, Opts) of
               {script_name, S} -> S;
               false -> Rel
           end,
    Out = filename:join([Dir, OutDir, filename:basename(Base)]),
    T0 = erlang:monotonic_time(millisecond),
    Result = with_cwd(Dir, fun() -> call_with_timeout(fun() -> Make(Rel, Opts) end, ?TOOL_TIMEOUT) end),
    Ms = erlang:monotonic_time(millisecond) - T0,
    #{result => Result, ms => Ms, opts => Opts, module => Mod, subject => Subject,
      boot => read_or_absent(Out ++ ".boot"), script => read_or_absent(Out ++ ".script")}.

%% xref takes the whole search path as its library path and fails on entries that are
%% not directories, such as the escript archive entries of a VM started by rebar3. Those
%% are dropped for the duration of an exref case so that xref actually runs.
with_code_path(false, Fun) -> Fun();
with_code_path(true, Fun) ->
    Old = code:get_path(),
    true = code:set_path([D || D <- Old, filelib:is_dir(D)]),
    try Fun() after true = code:set_path(Old) end.

with_cwd(Dir, Fun) ->
    {ok, Old} = file:get_cwd(),
    ok = file:set_cwd(Dir),
    try Fun() after ok = file:set_cwd(Old) end.

%% A fresh process per call: a hang becomes `timeout' instead of stalling the suite, and
%% a crash cannot take the harness with it.
call_with_timeout(Fun, Timeout) ->
    {Pid, Ref} = spawn_monitor(fun() ->
                                       exit({done, try Fun() catch C:R -> {raised, C, R} end})
                               end),
    receive
        {'DOWN', Ref, process, Pid, {done, Result}} -> Result;
        {'DOWN', Ref, process, Pid, Other} -> {raised, exit, Other}
    after Timeout ->
            exit(Pid, kill),
            receive {'DOWN', Ref, process, Pid, _} -> ok end,
            timeout
    end.

read_or_absent(File) ->
    case file:read_file(File) of
        {ok, Bin} -> Bin;
        {error, _} -> absent
    end.

%%% ================================================================ comparison

compare(#{result := R1} = Ref, #{result := R2} = Sub) ->
    N1 = norm_result(R1, maps:get(module, Ref)),
    N2 = norm_result(R2, maps:get(module, Sub)),
    Return = [{return, [] } || N1 =/= N2],
    Boot = case {maps:get(boot, Ref), maps:get(boot, Sub)} of
               {B, B} -> [];
               {B1, B2} -> [{boot, [{sizes, size_of(B1), size_of(B2)}, first_diff(B1, B2)]}]
           end,
    Script = case {maps:get(script, Ref), maps:get(script, Sub)} of
                 {S, S} -> [];
                 {S1, S2} when is_binary(S1), is_binary(S2) ->
                     %% Compared as bytes: OTP 25 matches -0.0 with 0.0.
                     Same = case {consult_bin(S1), consult_bin(S2)} of
                                {{ok, T1}, {ok, T2}} -> term_to_binary(T1) =:= term_to_binary(T2);
                                _ -> false
                            end,
                     [{case Same of true -> script_text; false -> script end, [first_line_diff(S1, S2)]}];
                 {S1, S2} -> [{script, [{sizes, size_of(S1), size_of(S2)}]}]
             end,
    Text = case {N1, N2} of
               _ when Return =/= [] -> [];
               {{error, _, E}, {error, _, E}} ->
                   %% An 'EXIT' reason embeds a stack trace neither side can match, so
                   %% both formatters get the normalised term.
                   text_diff(format_error, fmt(maps:get(subject, Ref), format_error, E),
                             fmt(maps:get(subject, Sub), format_error, E));
               {{ok, _, _}, {ok, _, _}} ->
                   {ok, _, W1} = R1,
                   {ok, _, W2} = R2,
                   text_diff(format_warning, fmt(maps:get(subject, Ref), format_warning, W1),
                             fmt(maps:get(subject, Sub), format_warning, W2));
               _ -> []
           end,
    All = Return ++ Boot ++ Script ++ Text,
    {[K || {K, _} <- All], [{K, D} || {K, D} <- All, D =/= []]}.

norm_result({ok, Mod, W}, Mod) -> {ok, '$tool', norm(W)};
norm_result({error, Mod, E}, Mod) -> {error, '$tool', norm(E)};
norm_result({raised, C, R}, _) -> {raised, C, norm(R)};
norm_result(Other, _) -> norm(Other).

%% Any {'EXIT', _} compares equal to any other at the same position (stack traces).
norm({'EXIT', _}) -> {'EXIT', '_'};
norm(T) when is_tuple(T) -> list_to_tuple(norm_list(tuple_to_list(T)));
norm(L) when is_list(L) -> norm_list(L);
norm(M) when is_map(M) -> maps:from_list([{norm(K), norm(V)} || {K, V} <- maps:to_list(M)]);
norm(X) -> X.

norm_list([H | T]) -> [norm(H) | norm_list(T)];
norm_list([]) -> [];
norm_list(Tail) -> norm(Tail).

fmt(#{} = Subject, Which, Arg) ->
    F = maps:get(Which, Subject),
    try lists:flatten(F(Arg)) catch C:R -> {crashed, C, R} end.

text_diff(_, T, T) -> [];
text_diff(Kind, T1, T2) -> [{Kind, [{systools, T1}, {subject, T2}]}].

size_of(absent) -> absent;
size_of(B) -> byte_size(B).

first_diff(B1, B2) when is_binary(B1), is_binary(B2) ->
    N = binary:longest_common_prefix([B1, B2]),
    {first_difference_at_byte, N};
first_diff(_, _) -> {presence_differs}.

first_line_diff(S1, S2) ->
    L1 = binary:split(S1, <<"\n">>, [global]),
    L2 = binary:split(S2, <<"\n">>, [global]),
    first_line_diff(L1, L2, 1).

first_line_diff([L | T1], [L | T2], N) -> first_line_diff(T1, T2, N + 1);
first_line_diff(T1, T2, N) ->
    {line, N, {systools, hd(T1 ++ [eof])}, {subject, hd(T2 ++ [eof])}}.

%% file:consult/1 on bytes: the .script is UTF-8 (its first line says so).
consult_bin(Bin) ->
    case unicode:characters_to_list(Bin) of
        Chars when is_list(Chars) -> parse_all(Chars, []);
        _ -> {error, not_utf8}
    end.

parse_all(Chars, Acc) ->
    case erl_scan:tokens([], Chars, 1) of
        {done, {ok, Toks, _}, Rest} ->
            case erl_parse:parse_term(Toks) of
                {ok, T} -> parse_all(Rest, [T | Acc]);
                Error -> Error
            end;
        {done, {eof, _}, _} -> {ok, lists:reverse(Acc)};
        {done, Error, _} -> Error;
        {more, Cont} ->
            case erl_scan:tokens(Cont, eof, 1) of
                {done, {eof, _}, _} -> {ok, lists:reverse(Acc)};
                Other -> {error, Other}
            end
    end.

%% A short label for a systools outcome, for the distribution table.
outcome({ok, _, []}) -> "ok";
outcome({ok, _, Ws}) ->
    "warnings: " ++ lists:flatten(lists:join(",", lists:usort([head_kind(W) || {warning, W} <- Ws])));
outcome({error, _, E}) -> "error: " ++ error_kind(E);
outcome({raised, C, _}) -> "raised " ++ atom_to_list(C);
outcome(timeout) -> "timeout";
outcome(Other) -> lists:flatten(io_lib:format("other: ~tP", [Other, 4])).

error_kind(L) when is_list(L) ->
    lists:flatten(lists:join(",", lists:usort([item_kind(X) || X <- L])));
error_kind({modules, Es}) ->
    "modules(" ++ lists:flatten(lists:join(",", lists:usort([item_kind(X) || X <- Es]))) ++ ")";
error_kind({warnings_treated_as_errors, Ws}) ->
    "warnings_as_errors(" ++ lists:flatten(lists:join(",", lists:usort([head_kind(W) || W <- Ws]))) ++ ")";
error_kind({apps, Es}) ->
    "apps(" ++ lists:flatten(lists:join(",", [head_kind(E) || E <- Es])) ++ ")";
error_kind(E) -> head_kind(E).

item_kind({error_reading, {_, {{K, _}, _}}}) when is_atom(K) -> "error_reading/" ++ atom_to_list(K);
item_kind({error_reading, {_, What}}) -> "error_reading/" ++ head_kind(What);
item_kind({error, {{K, _, _}, _}}) -> atom_to_list(K);
item_kind({error, E}) -> "xref/" ++ head_kind(E);
item_kind(E) -> head_kind(E).

head_kind(A) when is_atom(A) -> atom_to_list(A);
head_kind(T) when is_tuple(T), tuple_size(T) > 0, is_atom(element(1, T)) -> atom_to_list(element(1, T));
head_kind(T) when is_tuple(T), tuple_size(T) > 0 -> head_kind(element(1, T));
head_kind(_) -> "?".

count(L) ->
    maps:to_list(lists:foldl(fun(X, M) -> maps:update_with(X, fun(C) -> C + 1 end, 1, M) end, #{}, L)).

kv([]) -> "none";
kv(L) -> lists:join(", ", [io_lib:format("~ts=~w", [to_text(K), V]) || {K, V} <- lists:sort(L)]).

to_text(A) when is_atom(A) -> atom_to_list(A);
to_text(S) -> S.

%%% ================================================================ the corpus model
%%
%% A case is a map; the keys the writer and the runner use:
%%   rel_name   the name passed to make_script (may contain a directory)
%%   rel        {term, Term} | {fault, Kind, Term} (broken text) | none (no .rel file)
%%   apps       [App]: App = #{name, vsn, dir (where the .app goes), content := {term, T},
%%                             text_fault => Kind, style := {tp | w | hand, utf8 | latin1},
%%                             mods, fake => true (an OTP app's copy), shadow => true}
%%   files      extra [{Path, iodata()}] (beams, sources)
%%   mtimes     [{Path, DateTime}]
%%   opts       make_script options (with the outdir placeholder)
%%   exref      whether exref is among the options
%%   injected   the deliberate fault, if any

generate(Ctx0, I) ->
    Exref = I rem 97 =:= 5,
    %% The compiler rejects module names beyond Latin-1, and exref needs compiled modules.
    Ctx = Ctx0#{unicode_names := maps:get(unicode_names, Ctx0) andalso not Exref},
    Model0 = gen_release(Ctx),
    Model1 = gen_options(Ctx, Model0, Exref),
    Model2 = case chance(0.2) of
                 true -> inject(Ctx, Model1);
                 false -> Model1
             end,
    Model3 = add_module_files(Ctx, Model2),
    finish(Model3#{exref => Exref}).

%% Logical release: user apps with dependencies and includes, OTP apps, entries.
gen_release(Ctx) ->
    N = case chance(0.7) of true -> between(3, 9); false -> between(10, 25) end,
    Names = app_names(Ctx, N),
    Idx = lists:zip(lists:seq(1, N), Names),
    Vsns = maps:from_list([{A, gen_vsn(Ctx)} || A <- Names]),
    SaslIn = chance(0.85),
    %% Both relations point to lower indices (an includer starts after what it includes)
    %% and each app is included at most once, so there are no cycles unless one is added
    %% on purpose. Using an app that another app includes is legal but redirects the
    %% dependency to the includer (spec 3.1), which can close a cycle: keep it rare.
    Includer = lists:foldl(
                 fun({K, A}, Acc) ->
                         case K < N andalso chance(0.15) of
                             true -> Acc#{A => element(2, lists:nth(between(K + 1, N), Idx))};
                             false -> Acc
                         end
                 end, #{}, Idx),
    Uses = maps:from_list(
             [{A, [B || {J, B} <- Idx, J < K, chance(min(0.35, 2.5 / N)),
                        not maps:is_key(B, Includer) orelse chance(0.1)]}
              || {K, A} <- Idx]),
    Incs = maps:from_list([{A, shuffle([B || {B, P} <- maps:to_list(Includer), P =:= A])} || A <- Names]),
    Cyclic = chance(0.015) andalso N >= 2,
    Uses1 = case Cyclic of
                true ->
                    [A1, A2 | _] = shuffle(Names),
                    Uses#{A1 => maps:get(A1, Uses) ++ [A2], A2 => maps:get(A2, Uses) ++ [A1]};
                false -> Uses
            end,
    Layouts = gen_layouts(Names),
    Apps = [gen_app(A, maps:get(A, Vsns), maps:get(A, Uses1), maps:get(A, Incs), SaslIn,
                    maps:get(A, Layouts))
            || A <- Names],
    Otp = maps:get(otp, Ctx),
    OtpEntries = [{kernel, vsn(kernel, Otp), permanent}, {stdlib, vsn(stdlib, Otp), permanent}]
        ++ [{sasl, vsn(sasl, Otp), wpick([{8, permanent}, {1, temporary}, {1, load}, {1, none}])} || SaslIn],
    ExtraOtp = case chance(0.1) andalso maps:get(extra_otp, Ctx) =/= [] of
                   true -> [{A, V, pick([load, permanent, none])}
                            || {A, V} <- lists:sublist(shuffle(maps:get(extra_otp, Ctx)), between(1, 3))];
                   false -> []
               end,
    UserOrder = case wpick([{4, random}, {3, index}, {3, reverse}]) of
                    random -> shuffle(Apps);
                    index -> Apps;
                    reverse -> lists:reverse(Apps)
                end,
    UserEntries = [{maps:get(name, A), maps:get(vsn, A), maps:get(type, A)} || A <- UserOrder],
    Entries0 = case chance(0.9) of
                   true -> OtpEntries ++ ExtraOtp ++ UserEntries;
                   false -> insert_randomly(OtpEntries, shuffle(ExtraOtp ++ UserEntries))
               end,
    Entries = [entry_form(E, maps:get(incs, app_by_name(element(1, E), Apps, #{incs => []})))
               || E <- Entries0],
    RelName = pick(["rel", "myrel", "r1", "Rel_X", "start_me", "rel.v2"]),
    RelName1 = case chance(0.05) of true -> "rels/" ++ RelName; false -> RelName end,
    {RelN, RelV} = {pick(["rel", "My Release", "r", "αβ-rel", "x"]), pick(["1", "1.0.0", "2.0-rc1", "αβ", ""])},
    Fakes = case chance(0.12) of
                true -> gen_fakes(Ctx);
                false -> []
            end,
    %% Some fakes are what the .rel asks for; the rest only sit earlier on the path.
    Entries1 = lists:foldl(fun({A, FV, use}, Es) ->
                                   case lists:keyfind(A, 1, Es) of
                                       false -> Es;
                                       E -> lists:keyreplace(A, 1, Es, setelement(2, E, FV))
                                   end;
                              (_, Es) -> Es
                           end, Entries, [{A, FV, U} || #{name := A, vsn := FV, use := U} <- Fakes]),
    #{rel_name => RelName1,
      rel_head => {RelN, RelV, erlang:system_info(version)},
      entries => Entries1,
      apps => Apps ++ [maps:without([use], F) || F <- Fakes],
      files => [], mtimes => [],
      layouts => lists:usort(maps:values(Layouts))}.

vsn(A, Otp) -> maps:get(vsn, maps:get(A, Otp)).

app_by_name(Name, Apps, Default) ->
    case [A || #{name := N} = A <- Apps, N =:= Name] of
        [A | _] -> A;
        [] -> Default
    end.

insert_randomly([], L) -> L;
insert_randomly([X | Xs], L) ->
    {A, B} = lists:split(between(0, length(L)), L),
    insert_randomly(Xs, A ++ [X | B]).

%% The four .rel entry shapes; include overrides are subsets of the .app's list.
entry_form({A, V, Type}, Incs) ->
    Override = case Incs =/= [] andalso chance(0.25) of
                   true -> {yes, shuffle([X || X <- Incs, chance(0.6)])};
                   false when Incs =:= [] -> case chance(0.03) of true -> {yes, []}; false -> no end;
                   false -> no
               end,
    case {Type, Override} of
        {permanent, no} -> pick([{A, V}, {A, V}, {A, V, permanent}]);
        {_, no} -> {A, V, Type};
        {permanent, {yes, L}} -> pick([{A, V, L}, {A, V, permanent, L}]);
        {_, {yes, L}} -> {A, V, Type, L}
    end.

app_names(Ctx, N) ->
    Prefixes = ["app", "svc", "db", "web", "x", "my_app", "lib", "core", "q", "zeta", "alpha", "m"],
    Exotic = ['Caps_app', 'app-dash', 'app.dot', 'é_app', 'élan']
        ++ case maps:get(unicode_names, Ctx) of true -> ['αβ_app', 'ünï']; false -> [] end,
    Base = [case chance(0.03) of
                true -> pick(Exotic);
                false -> list_to_atom(pick(Prefixes) ++ integer_to_list(K))
            end || K <- lists:seq(1, N)],
    %% Exotic picks may repeat: make the names unique while keeping their look.
    uniq_names(Base, #{}).

uniq_names([], _) -> [];
uniq_names([A | T], Seen) ->
    A1 = case maps:is_key(A, Seen) of
             true -> list_to_atom(atom_to_list(A) ++ "_" ++ integer_to_list(map_size(Seen)));
             false -> A
         end,
    [A1 | uniq_names(T, Seen#{A1 => true})].

gen_vsn(Ctx) ->
    case chance(0.03) of
        true -> pick(["1.0 beta", "0"] ++ [[945, 946] || maps:get(unicode_names, Ctx)]);
        false -> pick(["1.0", "0.1.0", "2.3.4", "1.0.0-rc.1", "10.2", "1", "0.0.1+build.5", "1.0_beta", "3.0.0"])
    end.

%% Where each app's .app lives; the path option is derived from the layouts in use.
gen_layouts(Names) ->
    Mode = wpick([{68, std}, {10, noversion}, {6, flat}, {4, flatnv}, {7, lib2}, {5, mixed}]),
    Root = case chance(0.04) of true -> pick(Names); false -> none end,
    maps:from_list(
      [{A, case A of
               Root -> root;
               _ when Mode =:= mixed -> pick([std, noversion, flat, flatnv, lib2]);
               _ when Mode =:= std -> std;
               _ -> case chance(0.5) of true -> Mode; false -> std end
           end} || A <- Names]).

app_dir(Name, Vsn, Layout) ->
    N = atom_to_list(Name),
    case Layout of
        std -> filename:join(["lib", N ++ "-" ++ Vsn, "ebin"]);
        noversion -> filename:join(["lib", N, "ebin"]);
        flat -> filename:join(["lib", N ++ "-" ++ Vsn]);
        flatnv -> filename:join(["lib", N]);
        lib2 -> filename:join(["lib2", N ++ "-" ++ Vsn, "ebin"]);
        root -> "."
    end.

gen_app(Name, Vsn, Uses0, Incs, SaslIn, Layout) ->
    N = atom_to_list(Name),
    Base = [kernel || chance(0.95)] ++ [stdlib || chance(0.9)] ++ [sasl || SaslIn, chance(0.2)],
    Ghosts = [list_to_atom("ghost_" ++ N ++ "_" ++ integer_to_list(K)) || K <- lists:seq(1, 2), chance(0.08)],
    Uses = shuffle(Base ++ Uses0 ++ Ghosts),
    Optional = shuffle(Ghosts ++ [U || U <- Uses0, chance(0.15)]),
    Mods = gen_mods(N),
    Regs = [list_to_atom(N ++ "_" ++ S) || S <- ["sup", "srv", "server", "Reg", "é"], chance(0.25)],
    Type = wpick([{50, permanent}, {12, transient}, {12, temporary}, {13, load}, {13, none}]),
    Items0 =
        [{description, gen_description()}, {vsn, Vsn}, {modules, Mods}, {registered, Regs},
         {applications, Uses}]
        ++ [{id, gen_string()} || chance(0.2)]
        ++ opt_list(optional_applications, Optional)
        ++ opt_list(included_applications, Incs)
        ++ case wpick([{6, none}, {3, mod}, {1, empty}]) of
               none -> [];
               mod -> [{mod, {pick(Mods ++ [list_to_atom(N ++ "_app")]), gen_term(2)}}];
               empty -> [{mod, []}]
           end
        ++ case wpick([{8, none}, {2, list}, {1, undefined}]) of
               none -> [];
               list -> [{start_phases, [{gen_atom(), gen_term(1)} || _ <- lists:seq(1, between(0, 3))]}];
               undefined -> [{start_phases, undefined}]
           end
        ++ case wpick([{3, none}, {6, env}, {1, empty}]) of
               none -> [];
               env -> [{env, [{gen_atom(), gen_term(3)} || _ <- lists:seq(1, between(1, 6))]}];
               empty -> [{env, []}]
           end
        ++ [{maxT, pick([1, 3600, 16#7fffffff, 1 bsl 40, infinity])} || chance(0.15)]
        ++ [{maxP, pick([1, 10, 1 bsl 70, infinity])} || chance(0.15)]
        ++ [{runtime_dependencies, ["kernel-8.0", "stdlib-4.0"]} || chance(0.1)]
        ++ [{licenses, ["Apache-2.0"]} || chance(0.05)]
        ++ [{start_phases_typo, x} || chance(0.02)],
    Items = case chance(0.5) of true -> shuffle(Items0); false -> Items0 end,
    #{name => Name, vsn => Vsn, dir => app_dir(Name, Vsn, Layout), layout => Layout,
      type => Type, incs => Incs, mods => Mods, uses => Uses,
      content => {term, {application, Name, Items}}, style => gen_style()}.

opt_list(Key, []) -> [{Key, []} || chance(0.4)];
opt_list(Key, L) -> [{Key, L}].

gen_mods(N) ->
    Suffixes = ["app", "sup", "srv", "worker", "lib", "utils", "db", "Mod", "a_b", "Z", "é", "x9"],
    Own = [list_to_atom(N ++ "_" ++ S) || S <- Suffixes, chance(0.3)],
    %% Preloaded modules are in no .app of the release, so listing one is legal and
    %% exercises their removal from the app's primLoad.
    Pre = [pick(?PRELOADED_PICKS) || chance(0.03)],
    shuffle(Own) ++ Pre.

gen_description() ->
    pick(["My test app", "", "ERICSSON NR FOR FE", "tab\there", "quote \" and \\ backslash",
          "café", [945, 946, 32, 99, 97, 102, 233], "line1\nline2", "emoji " ++ [128512],
          "ctrl " ++ [1, 27, 127], "nbsp" ++ [160, 255]]).

gen_fakes(Ctx) ->
    Otp = maps:get(otp, Ctx),
    [begin
         #{vsn := Real, term := {application, A, Items}} = maps:get(A, Otp),
         {FV, Use} = pick([{Real ++ ".9", no}, {"0.0.1", no}, {Real ++ ".9", use}, {Real, use}]),
         Items1 = lists:keyreplace(vsn, 1, Items, {vsn, FV}),
         Items2 = case chance(0.5) of
                      true -> lists:keyreplace(description, 1, Items1, {description, "Fake " ++ atom_to_list(A)});
                      false -> Items1
                  end,
         Layout = pick([std, std, noversion]),
         #{name => A, vsn => FV, use => Use, dir => app_dir(A, FV, Layout), layout => Layout,
           mods => [], incs => [], type => permanent, uses => [],
           content => {term, {application, A, Items2}}, style => gen_style(), fake => true}
     end || A <- [kernel, stdlib, sasl], chance(0.5)].

gen_style() ->
    {wpick([{3, tp}, {2, w}, {5, hand}]), wpick([{8, utf8}, {2, latin1}])}.

%%% ---------------------------------------------------------------- options

gen_options(Ctx, Model, Exref) ->
    #{layouts := Layouts, apps := Apps} = Model,
    Dir = maps:get(dir, Ctx),
    Vars = chance(0.12),
    Abs = Vars andalso chance(0.6) orelse chance(0.05),
    Path = path_option(Layouts, Abs, Dir, Apps),
    Extras = lists:append(
               [[local || chance(0.1)],
                [{variables, gen_variables(Ctx, Dir)} || Vars],
                [no_dot_erlang || chance(0.15)],
                [no_warn_sasl || chance(0.12)],
                [warnings_as_errors || chance(0.1)],
                [{script_name, pick(["start", "sub/boot", "start.v1"])} || chance(0.1)],
                [src_tests || chance(0.04)],
                [otp_build || chance(0.03)],
                [no_module_tests || chance(0.03)],
                case Exref of
                    true -> [pick([exref, {exref, user_app_subset(Apps)}, {exref, user_app_subset(Apps)}])];
                    false -> []
                end]),
    OutDir = case chance(0.1) of
                 true -> pick([{outdir, {tool, "out/", ""}}, {outdir, {tool, "out/", "/"}},
                               {outdir, {tool, filename:join(Dir, "out") ++ "/", ""}},
                               {outdir, {tool, "./out/", ""}}]);
                 false -> {outdir, {tool, "", ""}}
             end,
    %% A second {path, _} is validated but ignored (first occurrence wins).
    Dup = [{path, ["nonexistent/*/ebin"]} || Path =/= [], chance(0.03)],
    Opts = shuffle([silent, OutDir | Path ++ Extras ++ Dup]),
    Model#{opts => Opts}.

user_app_subset(Apps) ->
    Users = [N || #{name := N} = A <- Apps, not maps:is_key(fake, A)],
    [N || N <- Users, chance(0.5)] ++ [stdlib || chance(0.1)].

path_option(Layouts, Abs, Dir, Apps) ->
    Std = lists:member(std, Layouts) orelse lists:member(noversion, Layouts),
    Pats = lists:append(
             [case Std of
                  true -> [pick(["lib/*/ebin", "lib/*/ebin", "lib/*/eb*n", "./lib/*/ebin"])];
                  false -> ["lib/*/ebin" || chance(0.5)]
              end,
              ["lib/*" || lists:member(flat, Layouts) orelse lists:member(flatnv, Layouts)],
              ["lib2/*/ebin" || lists:member(lib2, Layouts)],
              ["nonexistent/*/ebin" || chance(0.05)],
              ["missing_dir" || chance(0.05)]]),
    Pats1 = case chance(0.05) of
                %% explicit directories instead of wildcards
                true -> lists:usort([D || #{dir := D} <- Apps, D =/= "."]) ++ ["missing_dir"];
                false -> shuffle(Pats)
            end,
    Pats2 = [case Abs of true -> filename:join(Dir, P); false -> P end || P <- Pats1],
    case chance(0.01) of
        true -> [];
        false -> [{path, Pats2}]
    end.

gen_variables(Ctx, Dir) ->
    AbsLib = filename:join(Dir, "lib"),
    Cands = [{"TEST", AbsLib}, {"TEST", AbsLib ++ "/"}, {"OTP", maps:get(root, Ctx)},
             {'ATOMVAR', "lib"}, {"REL", "lib"}, {"LI", "li"}, {"CASE", Dir}, {"LIB2", filename:join(Dir, "lib2")}],
    case chance(0.5) of
        true -> [{"TEST", AbsLib}];
        false -> lists:sublist(shuffle(Cands), between(1, 3))
    end.

%%% ---------------------------------------------------------------- error injection

%% One deliberate fault per injected case. Each clause documents the systools error it
%% aims at; what systools really answers is the oracle either way.
inject(Ctx, Model) ->
    Kind = wpick([{3, missing_app}, {3, app_vsn}, {2, shadow_invalid}, {2, shadow_valid},
                  {2, dup_module}, {2, dup_register}, {2, circular}, {2, undefined_use},
                  {1, undefined_include}, {1, dup_include}, {2, bad_override},
                  {3, rel_text}, {2, rel_shape}, {2, rel_names}, {3, rel_illegal_apps},
                  {2, mandatory}, {1, no_rel}, {3, app_text}, {3, app_missing_key},
                  {6, app_bad_value}, {2, app_shape}, {2, app_other_name}, {1, rel_dup_entry},
                  {1, missing_beam}]),
    (inject(Kind, Ctx, Model))#{injected => Kind}.

inject(missing_app, _Ctx, M) ->
    %% {error_reading, {App, {not_found, "App.app"}}}
    add_entry({pick([ghost_app, 'Ghost', nope]), "1.0"}, M);
inject(app_vsn, _Ctx, M) ->
    %% no_valid_version: the .app carries another vsn than the .rel
    update_user_app(M, fun(A) -> set_item(A, vsn, pick(["9.9", "1.0.1", ""])) end);
inject(shadow_invalid, _Ctx, M) ->
    %% an invalid copy earlier on the path aborts the search with its own error
    shadow(M, fun(A) -> set_item(A, maxT, 0) end);
inject(shadow_valid, _Ctx, M) ->
    %% a valid wrong-version copy earlier on the path does not hide the right one
    shadow(M, fun(A) -> set_item(A, vsn, "0.0.0-old") end);
inject(dup_module, Ctx, M) ->
    case [A || #{mods := [_ | _]} = A <- user_apps(M)] of
        [] -> inject(dup_register, Ctx, M);
        WithMods ->
            #{mods := Ms} = pick(WithMods),
            Mod = pick(Ms),
            update_user_app(M, fun(A) -> update_item(A, modules, fun(L) -> shuffle([Mod | L]) end) end)
    end;
inject(dup_register, _Ctx, M) ->
    Reg = pick([shared_name, 'Shared', rex]),
    M1 = update_user_app(M, fun(A) -> update_item(A, registered, fun(L) -> [Reg | L] end) end),
    case chance(0.3) of
        true -> update_user_app(M1, fun(A) -> update_item(A, registered, fun(L) -> L ++ [dupreg, dupreg] end) end);
        false -> update_user_app(M1, fun(A) -> update_item(A, registered, fun(L) -> L ++ [Reg] end) end)
    end;
inject(circular, Ctx, M) ->
    case user_apps(M) of
        [_, _ | _] = Us ->
            [#{name := A1}, #{name := A2} | _] = shuffle(Us),
            M1 = update_named(M, A1, fun(A) -> update_item(A, applications, fun(L) -> L ++ [A2] end) end),
            update_named(M1, A2, fun(A) -> update_item(A, applications, fun(L) -> [A1 | L] end) end);
        _ -> inject(missing_app, Ctx, M)
    end;
inject(undefined_use, _Ctx, M) ->
    update_user_app(M, fun(A) -> update_item(A, applications, fun(L) -> L ++ [undefined_dep] end) end);
inject(undefined_include, _Ctx, M) ->
    update_user_app(M, fun(A) -> set_item(A, included_applications, [not_in_rel]) end);
inject(dup_include, Ctx, M) ->
    %% Two includers of one app: duplicate_include is detected before the include-tree
    %% walk that would loop on cycles, and the includers precede the included app by
    %% index, so no cycle arises anyway.
    case lists:reverse(user_apps(M)) of
        [#{name := Inc} | [_, _ | _] = Rest] ->
            [#{name := P1}, #{name := P2} | _] = shuffle(Rest),
            Add = fun(A) -> update_item(A, included_applications, fun(L) -> [Inc | L -- [Inc]] end) end,
            M1 = clear_includer(M, Inc),
            update_named(update_named(M1, P1, Add), P2, Add);
        _ -> inject(undefined_use, Ctx, M)
    end;
inject(bad_override, _Ctx, M) ->
    %% {override_include, [Apps]}
    #{entries := Es} = M,
    Users = [E || E <- Es, is_user(element(1, E), M)],
    E = pick(Users),
    {A, V} = {element(1, E), element(2, E)},
    New = case chance(0.5) of
              true -> {A, V, [not_included]};
              false -> {A, V, permanent, [kernel, not_included]}
          end,
    M#{entries := lists:keyreplace(A, 1, Es, New)};
inject(rel_text, _Ctx, M) ->
    M#{rel_text => pick([syntax, no_dot, empty, unterminated, variable, comment_only, expression, garbage_after,
                         bad_escape, undeclared_latin1])};
inject(rel_shape, _Ctx, M) ->
    #{entries := Es} = M,
    M#{rel_term => pick([{rel, {"r", "1"}, {erts, "1"}, Es},
                         {release, {"r", "1"}, {erts, "1"}, not_a_list},
                         {release, {"r", "1"}, {erts, "1"}},
                         {release, "r", {erts, "1"}, Es},
                         {release, {"r", "1"}, {erts_x, "1"}, Es},
                         [release, {"r", "1"}, {erts, "1"}, Es],
                         {release, {"r", "1"}, {erts, "1"}, Es, extra}])};
inject(rel_names, _Ctx, M) ->
    %% illegal_name / illegal_form, or 'EXIT' from string_p on atoms and numbers
    #{rel_head := {N, V, E}} = M,
    Bad = pick([<<"bin">>, ["deep", "list"], an_atom, 42, [1.5], [16#110000]]),
    M#{rel_head := case between(1, 3) of
                       1 -> {Bad, V, E};
                       2 -> {N, Bad, E};
                       3 -> {N, V, Bad}
                   end};
inject(rel_illegal_apps, _Ctx, M) ->
    Bad = pick([{"kernel_str", "1.0"}, {x}, {x, <<"1.0">>}, {x, "1.0", bad_type}, {x, "1.0", [1]},
                {x, "1.0", permanent, [x], extra}, {x, "1.0", permanent, not_list}, "kernel",
                {x, ["1", "0"]}, {x, "1.0", "permanent"}, {x, '1.0'}, {x, 1.0}, {x, "1.0", 7}]),
    add_entry(Bad, M);
inject(mandatory, _Ctx, M) ->
    #{entries := Es} = M,
    case pick([drop_kernel, drop_stdlib, type_kernel, type_stdlib, drop_both]) of
        drop_kernel -> M#{entries := lists:keydelete(kernel, 1, Es)};
        drop_stdlib -> M#{entries := lists:keydelete(stdlib, 1, Es)};
        drop_both -> M#{entries := lists:keydelete(stdlib, 1, lists:keydelete(kernel, 1, Es))};
        type_kernel -> retype(M, kernel);
        type_stdlib -> retype(M, stdlib)
    end;
inject(no_rel, _Ctx, M) ->
    M#{rel_text => none};
inject(app_text, _Ctx, M) ->
    %% parse_error (syntax), or a file systools cannot read at all, which it then
    %% treats as absent (not_found)
    update_user_app(M, fun(A) -> A#{text_fault => pick([syntax, no_dot, empty, unterminated,
                                                         variable, expression, bad_char, bad_escape,
                                                         undeclared_latin1])} end);
inject(app_missing_key, _Ctx, M) ->
    Key = pick([vsn, description, modules, registered, applications]),
    update_user_app(M, fun(A) -> del_item(A, Key) end);
inject(app_bad_value, _Ctx, M) ->
    {Key, Val} = pick(bad_values()),
    update_user_app(M, fun(A) ->
                               case chance(0.15) of
                                   %% a later duplicate key is never looked at
                                   true -> add_item_last(A, Key, Val);
                                   false -> set_item(A, Key, Val)
                               end
                       end);
inject(app_shape, _Ctx, M) ->
    update_user_app(M, fun(#{name := N} = A) ->
                               A#{content := {term, pick([{application, N},
                                                          {application, atom_to_list(N), []},
                                                          {app, N, []},
                                                          [application, N, []],
                                                          {application, N, not_a_list},
                                                          {application, N, [], extra},
                                                          N])}}
                       end);
inject(app_other_name, _Ctx, M) ->
    %% bad_application_name
    update_user_app(M, fun(#{content := {term, {application, _, Items}}} = A) ->
                               A#{content := {term, {application, other_name, Items}}}
                       end);
inject(rel_dup_entry, _Ctx, M) ->
    #{entries := Es} = M,
    E = pick(Es),
    M#{entries := Es ++ [E]};
inject(missing_beam, _Ctx, M) ->
    %% {modules, [{error, {{module_not_found, App, Mod}, _}}]}
    #{opts := Opts} = M,
    M#{opts := [src_tests | Opts -- [src_tests]], missing_beams => true}.

bad_values() ->
    [{vsn, an_atom}, {vsn, 10}, {vsn, <<"1.0">>}, {vsn, ["1", "0"]}, {vsn, [1.5]},
     {id, 42}, {id, <<"id">>}, {id, [[]]},
     {description, desc}, {description, <<"d">>}, {description, [16#D800]},
     {modules, "abc"}, {modules, [m, "n"]}, {modules, m}, {modules, [m | n]},
     {registered, "abc"}, {registered, reg}, {registered, [{r}]},
     {applications, "kernel"}, {applications, kernel}, {applications, [kernel, 1]},
     {optional_applications, [1]}, {optional_applications, x},
     {included_applications, "x"}, {included_applications, [x | y]},
     {mod, {1, []}}, {mod, foo}, {mod, {m}}, {mod, {m, a, b}}, {mod, "m"},
     {start_phases, [x]}, {start_phases, [{1, a}]}, {start_phases, foo},
     {env, [{1, 2}]}, {env, [x]}, {env, foo}, {env, [{k}]}, {env, #{k => v}},
     {maxT, 0}, {maxT, -1}, {maxT, 1.5}, {maxT, "10"}, {maxT, infinit},
     {maxP, 0}, {maxP, -5}, {maxP, 2.0}, {maxP, undefined}].

retype(#{entries := Es} = M, App) ->
    {App, V} = {App, element(2, lists:keyfind(App, 1, Es))},
    M#{entries := lists:keyreplace(App, 1, Es, {App, V, pick([load, none, temporary, transient])})}.

add_entry(E, #{entries := Es} = M) ->
    {A, B} = lists:split(between(0, length(Es)), Es),
    M#{entries := A ++ [E | B]}.

shadow(M, Change) ->
    case user_apps(M) of
        [] -> M;
        Us ->
            #{name := N} = A = pick(Us),
            Copy = Change(A),
            Dir = filename:join(["lib0", atom_to_list(N) ++ "-old", "ebin"]),
            #{apps := Apps, opts := Opts} = M,
            Opts1 = [case O of
                         {path, P} -> {path, ["lib0/*/ebin" | P]};
                         _ -> O
                     end || O <- Opts],
            M#{apps := Apps ++ [maps:remove(fake, Copy#{dir := Dir, shadow => true})], opts := Opts1}
    end.

user_apps(#{apps := Apps}) ->
    [A || A <- Apps, not maps:is_key(fake, A), not maps:is_key(shadow, A)].

is_user(Name, M) -> lists:any(fun(#{name := N}) -> N =:= Name end, user_apps(M)).

update_user_app(M, Fun) ->
    case user_apps(M) of
        [] -> M;
        Us -> update_named(M, maps:get(name, pick(Us)), Fun)
    end.

update_named(#{apps := Apps} = M, Name, Fun) ->
    M#{apps := [case A of
                    #{name := Name} -> case maps:is_key(fake, A) orelse maps:is_key(shadow, A) of
                                           true -> A;
                                           false -> Fun(A)
                                       end;
                    _ -> A
                end || A <- Apps]}.

clear_includer(#{apps := Apps} = M, Inc) ->
    M#{apps := [case A of
                    #{content := {term, {application, N, Items}}} ->
                        case lists:keyfind(included_applications, 1, Items) of
                            {_, L} -> A#{content := {term, {application, N,
                                                            lists:keyreplace(included_applications, 1, Items,
                                                                             {included_applications, L -- [Inc]})}}};
                            false -> A
                        end;
                    _ -> A
                end || A <- Apps]}.

set_item(#{content := {term, {application, N, Items}}} = A, K, V) ->
    Items1 = case lists:keymember(K, 1, Items) of
                 true -> lists:keyreplace(K, 1, Items, {K, V});
                 false -> Items ++ [{K, V}]
             end,
    A#{content := {term, {application, N, Items1}}};
set_item(A, _, _) -> A.

add_item_last(#{content := {term, {application, N, Items}}} = A, K, V) ->
    A#{content := {term, {application, N, Items ++ [{K, V}]}}};
add_item_last(A, _, _) -> A.

update_item(#{content := {term, {application, _, Items}}} = A, K, Fun) ->
    Old = case lists:keyfind(K, 1, Items) of {K, L} -> L; false -> [] end,
    set_item(A, K, Fun(Old));
update_item(A, _, _) -> A.

del_item(#{content := {term, {application, N, Items}}} = A, K) ->
    A#{content := {term, {application, N, lists:keydelete(K, 1, Items)}}};
del_item(A, _) -> A.

%%% ---------------------------------------------------------------- beams and sources

%% src_tests needs Mod.beam next to each .app (else module_not_found) and looks for
%% Mod.erl in ../src (recursively) or next to the .app; exref needs real beams with
%% debug_info. Only user apps get files; OTP apps are checked in place.
add_module_files(Ctx, #{opts := Opts, apps := Apps} = M) ->
    Src = lists:member(src_tests, Opts),
    Exref = lists:any(fun(exref) -> true; ({exref, _}) -> true; (_) -> false end, Opts),
    case Src orelse Exref of
        false -> M;
        true ->
            AllMods = lists:append([Ms || #{mods := Ms} <- Apps]),
            Missing = maps:get(missing_beams, M, false),
            {Files, Times} =
                lists:unzip(
                  [module_files(Ctx, Dir, Mod, Src, Exref, Missing, AllMods)
                   || #{dir := Dir, mods := Mods} = A <- Apps, not maps:is_key(fake, A),
                      Mod <- Mods, not lists:member(Mod, ?PRELOADED_PICKS)]),
            M#{files := maps:get(files, M) ++ lists:append(Files),
               mtimes := maps:get(mtimes, M) ++ lists:append(Times)}
    end.

module_files(Ctx, Dir, Mod, Src, Exref, Missing, AllMods) ->
    Beam = filename:join(Dir, atom_to_list(Mod) ++ ".beam"),
    BeamBin = case Exref of
                  true -> exref_beam(Mod, AllMods);
                  %% src_tests only looks at the beam's existence and mtime
                  false -> pick([maps:get(dummy_beam, Ctx), <<>>])
              end,
    BeamFiles = case Missing andalso chance(0.3) of
                    true -> [];
                    false -> [{Beam, BeamBin}]
                end,
    case Src of
        false -> {BeamFiles, []};
        true ->
            SrcDirs = case filename:basename(Dir) of
                          "ebin" ->
                              Parent = filename:dirname(Dir),
                              [filename:join(Parent, "src"), filename:join([Parent, "src", "sub"]),
                               filename:join([Parent, "src", "e_src"])];
                          _ -> [Dir]
                      end,
            case wpick([{6, wpick([{3, hd(SrcDirs)}, {1, lists:last(SrcDirs)}, {1, pick(SrcDirs)}])},
                        {2, none}]) of
                none -> {BeamFiles, [{Beam, ?T_BEAM} || BeamFiles =/= []]};
                SD ->
                    Erl = filename:join(SD, atom_to_list(Mod) ++ ".erl"),
                    SrcTime = case chance(0.2) of true -> ?T_NEW; false -> ?T_OLD end,
                    {BeamFiles ++ [{Erl, io_lib:format("-module(~tw).~n", [Mod])}],
                     [{Beam, ?T_BEAM} || BeamFiles =/= []] ++ [{Erl, SrcTime}]}
            end
    end.

%% A module calling a defined function of another module in the release, an unknown
%% module and an unknown stdlib function, so xref has something to report.
exref_beam(Mod, AllMods) ->
    Other = pick(AllMods),
    Forms = [{attribute, 1, module, Mod},
             {attribute, 2, export, [{f, 0}]},
             {function, 3, f, 0,
              [{clause, 3, [], [],
                [{call, 4, {remote, 4, {atom, 4, Other}, {atom, 4, f}}, []},
                 {call, 5, {remote, 5, {atom, 5, list_to_atom(atom_to_list(Mod) ++ "_missing")}, {atom, 5, g}},
                  [{integer, 5, 1}]},
                 {call, 6, {remote, 6, {atom, 6, lists}, {atom, 6, non_existing_func}}, [{integer, 6, 1}]}]}]}],
    {ok, _, Bin} = compile:forms(Forms, [binary, debug_info]),
    Bin.

%%% ---------------------------------------------------------------- writing

finish(M) ->
    #{entries := Es, rel_head := {N, V, E}} = M,
    RelContent = case maps:get(rel_text, M, undefined) of
                     none -> none;
                     undefined ->
                         {term, maps:get(rel_term, M, {release, {N, V}, {erts, E}, Es})};
                     Fault -> {fault, Fault, {release, {N, V}, {erts, E}, Es}}
                 end,
    M#{rel => RelContent}.

write_case(Dir, #{rel_name := Rel, rel := RelContent, apps := Apps, files := Files, mtimes := Times}) ->
    case RelContent of
        none -> ok;
        _ -> write_file(filename:join(Dir, Rel ++ ".rel"), render_content(RelContent, gen_style()))
    end,
    [write_file(filename:join([Dir, D, atom_to_list(N) ++ ".app"]), render_app(A))
     || #{name := N, dir := D} = A <- Apps],
    [write_file(filename:join(Dir, F), Bytes) || {F, Bytes} <- Files],
    [ok = file:change_time(filename:join(Dir, F), T) || {F, T} <- Times],
    ok.

render_app(#{content := C, style := Style} = A) ->
    case maps:get(text_fault, A, undefined) of
        undefined -> render_content(C, Style);
        Fault -> render_content({fault, Fault, element(2, C)}, Style)
    end.

write_file(File, Data) ->
    ok = filelib:ensure_dir(File),
    Bin = case is_binary(Data) of
              true -> Data;
              false -> unicode:characters_to_binary(Data)
          end,
    ok = file:write_file(File, Bin).

%% Bytes of a .rel/.app: the term as text in one of several styles and encodings, or a
%% deliberately broken text.
render_content({term, T}, {Style, Enc0}) ->
    Body = case Style of
               tp -> io_lib:format("~tp", [T]);
               w -> io_lib:format("~w", [T]);
               hand -> hand(T, Enc0)
           end,
    Chars = lists:flatten(Body),
    Enc = case Enc0 =:= latin1 andalso lists:all(fun(C) -> C =< 255 end, Chars) of
              true -> latin1;
              false -> utf8
          end,
    Text = [bom(Enc), header(Enc), pre_comments(Enc), Chars, trailer()],
    Text1 = case Style =:= w andalso chance(0.15) of
                %% ~w never puts a raw newline inside a literal, so CRLF is safe here
                true -> crlf(lists:flatten(Text));
                false -> Text
            end,
    encode(Text1, Enc);
render_content({fault, Fault, T}, _) ->
    Chars = lists:flatten(io_lib:format("~tp", [T])),
    Text = case Fault of
               syntax -> pick([["{", Chars, ".\n"],
                               [insert_after("[", Chars, " , ,"), ".\n"],
                               [insert_after("{", Chars, "}"), ".\n"]]);
               no_dot -> [Chars, "\n"];
               empty -> "";
               unterminated -> ["{\"abc, ", Chars, ".\n"];
               variable -> ["{Var, ", Chars, "}.\n"];
               comment_only -> "%% nothing here\n";
               expression -> ["{1 + 2, ", Chars, "}.\n"];
               bad_char -> ["{", [1], Chars, "}.\n"];
               garbage_after -> [Chars, ".\n garbage { [ \n"];
               %% U+FFFF is rejected by erl_scan even as an escape
               bad_escape -> ["{\"\\x{FFFF}\", ", Chars, "}.\n"];
               %% a Latin-1 byte in a file read as UTF-8
               undeclared_latin1 -> [<<"%% caf", 16#e9, " without a coding line\n">>, Chars, ".\n"]
           end,
    Parts = case Text of
                [C | _] when is_integer(C) -> [Text];
                _ -> Text
            end,
    iolist_to_binary([case is_binary(P) of true -> P; false -> encode(P, utf8) end || P <- Parts]).

insert_after(Pat, Chars, Ins) ->
    case string:split(Chars, Pat) of
        [A, B] -> [A, Pat, Ins, B];
        [A] -> [A, Ins]
    end.

encode(Text, utf8) -> unicode:characters_to_binary(Text);
encode(Text, latin1) -> unicode:characters_to_binary(Text, unicode, latin1).

crlf([$\n | T]) -> [$\r, $\n | crlf(T)];
crlf([C | T]) -> [C | crlf(T)];
crlf([]) -> [].

bom(utf8) -> [16#FEFF || chance(0.003)];  % systools cannot read these at all
bom(latin1) -> [].

header(latin1) -> pick(["%% coding: latin-1\n", "%% -*- coding: latin-1 -*-\n", "% coding:latin-1\n"]);
header(utf8) -> pick(["", "", "", "%% coding: utf-8\n", "%% -*- coding: utf-8 -*-\n"]).

pre_comments(_) ->
    pick(["", "", "\n", "%% generated by fastrel_diff\n", "% café comment\n\n", "  \t\n"]).

trailer() ->
    pick([".\n", ".\n", ".\n", ". ", ".\n%% trailing comment\n", ".\n{ignored, term}.\n", ".\ngarbage {\n",
          ".\n\n\n", ".% comment right after the dot\n"]).

%%% ---------------------------------------------------------------- hand-written term text

%% The term written the way people write .app files: comments and odd whitespace
%% between tokens, integers in other bases or as $c, split string literals, escapes.
%% Only chars =< 255 are emitted raw when the file will be latin-1.
hand(A, Enc) when is_atom(A) -> atom_text(A, Enc);
hand(I, _) when is_integer(I) -> int_text(I);
hand(F, _) when is_float(F) -> float_text(F);
hand([], _) -> pick(["[]", "\"\"", "[ ]", "\"\" \"\""]);
hand(L, Enc) when is_list(L) ->
    case is_string(L) andalso chance(0.85) of
        true -> string_text(L, Enc);
        false -> list_text(L, Enc)
    end;
hand(B, Enc) when is_bitstring(B) -> bin_text(B, Enc);
hand(T, Enc) when is_tuple(T) ->
    ["{", ws(), join_ws([hand(E, Enc) || E <- tuple_to_list(T)], ","), ws(), "}"];
hand(M, Enc) when is_map(M) ->
    Pairs = [[hand(K, Enc), " =>", ws1(), hand(V, Enc)] || {K, V} <- shuffle(maps:to_list(M))],
    ["#{", ws(), join_ws(Pairs, ","), ws(), "}"];
hand(F, Enc) when is_function(F) ->
    {module, M} = erlang:fun_info(F, module),
    {name, N} = erlang:fun_info(F, name),
    {arity, A} = erlang:fun_info(F, arity),
    ["fun ", atom_text(M, Enc), ":", atom_text(N, Enc), "/", integer_to_list(A)].

join_ws([], _) -> [];
join_ws([X], _) -> [X];
join_ws([X | T], Sep) -> [X, ws(), Sep, ws() | join_ws(T, Sep)].

ws() ->
    wpick([{40, ""}, {30, " "}, {12, "\n    "}, {4, "\t"}, {5, " % note\n"}, {3, "\n%% cömment\n  "},
           {3, "\n\n"}, {3, "  "}]).

ws1() -> pick([" ", "\n\t", " % c\n "]).

is_string(L) ->
    try lists:all(fun(C) -> is_integer(C) andalso C >= 0 andalso C =< 16#10FFFF
                                andalso not (C >= 16#D800 andalso C =< 16#DFFF) end, L)
    catch error:_ -> false
    end.

list_text(L, Enc) ->
    {Elems, Tail} = split_improper(L, []),
    ["[", ws(), join_ws([hand(E, Enc) || E <- Elems], ","),
     case Tail of
         [] -> [];
         _ -> [ws(), "|", ws(), hand(Tail, Enc)]
     end, ws(), "]"].

split_improper([H | T], Acc) -> split_improper(T, [H | Acc]);
split_improper(Tail, Acc) -> {lists:reverse(Acc), Tail}.

string_text(L, Enc) ->
    case chance(0.08) andalso lists:all(fun(C) -> C >= $a andalso C =< $z end, L) of
        true -> ["[", join_ws([[$$, C] || C <- L], ","), "]"];
        false ->
            Parts = split_random(L),
            join_with([["\"", [esc(C, $", Enc) || C <- P], "\""] || P <- Parts],
                      fun() -> pick(["", " ", "\n  ", " % split\n "]) end)
    end.

join_with([], _) -> [];
join_with([X], _) -> [X];
join_with([X | T], SepFun) -> [X, SepFun() | join_with(T, SepFun)].

split_random(L) when length(L) < 2 -> [L];
split_random(L) ->
    case chance(0.2) of
        true ->
            {A, B} = lists:split(between(0, length(L)), L),
            [A | split_random(B)];
        false -> [L]
    end.

esc($\\, _, _) -> "\\\\";
esc(Q, Q, _) -> [$\\, Q];
esc($\n, _, _) -> pick(["\\n", "\\n", "\\012", "\\x{a}"]);
esc($\t, _, _) -> pick(["\\t", "\t", "\\^i"]);
esc($\s, _, _) -> pick([" ", " ", " ", "\\s"]);
esc(27, _, _) -> pick(["\\e", "\\033"]);
esc(127, _, _) -> pick(["\\d", "\\177"]);
esc(C, _, _) when C < 32 ->
    pick([io_lib:format("\\~3.8.0b", [C]), io_lib:format("\\x{~.16b}", [C]),
          io_lib:format("\\x~2.16.0b", [C])]);
esc(C, _, latin1) when C > 255 -> io_lib:format("\\x{~.16b}", [C]);
esc(C, _, _) when C > 127 ->
    case chance(0.15) of
        true -> io_lib:format("\\x{~.16B}", [C]);
        false -> [C]
    end;
esc(C, _, _) ->
    case chance(0.02) of
        true -> io_lib:format("\\x{~.16b}", [C]);
        false -> [C]
    end.

atom_text(A, Enc) ->
    Chars = atom_to_list(A),
    case hd(io_lib:write_atom(A) ++ " ") =:= $' orelse chance(0.08) of
        true -> [$', [esc(C, $', Enc) || C <- Chars], $'];
        false -> Chars
    end.

int_text(I) when I < 0 -> [pick(["-", "- "]), int_text(-I)];
int_text(I) ->
    R = rand:uniform(),
    if
        R < 0.08, I < 1 bsl 64 -> ["16#", pick([integer_to_list(I, 16), string:lowercase(integer_to_list(I, 16))])];
        R < 0.11, I < 1 bsl 20 -> ["2#", integer_to_list(I, 2)];
        R < 0.13, I < 1 bsl 64 -> ["36#", integer_to_list(I, 36)];
        R < 0.18, I >= $a, I =< $z -> [$$, I];
        R < 0.22, I >= 1000 -> underscores(integer_to_list(I));
        true -> integer_to_list(I)
    end.

underscores([A, B | T]) ->
    case chance(0.3) of
        true -> [A, $_ | underscores([B | T])];
        false -> [A | underscores([B | T])]
    end;
underscores(T) -> T.

float_text(F) ->
    case F < 0 orelse <<F/float>> =:= <<-0.0/float>> of
        true -> ["-", float_text(-F)];
        false ->
            case wpick([{6, short}, {2, e17}, {1, upper}]) of
                short -> float_to_list(F, [short]);
                e17 -> io_lib:format("~.17e", [F]);
                upper -> string:uppercase(float_to_list(F, [short]))
            end
    end.

bin_text(B, _Enc) when bit_size(B) rem 8 =/= 0 ->
    Bytes = bit_size(B) div 8,
    Bits = bit_size(B) rem 8,
    <<Whole:Bytes/binary, Last:Bits>> = B,
    ["<<", join_ws([integer_to_list(X) || <<X>> <= Whole] ++ [[integer_to_list(Last), ":", integer_to_list(Bits)]], ","), ">>"];
bin_text(<<>>, _) -> pick(["<<>>", "<<\"\">>", "<< >>"]);
bin_text(B, Enc) ->
    Utf8 = case unicode:characters_to_list(B) of
               L when is_list(L) -> L;
               _ -> false
           end,
    Latin = lists:all(fun(C) -> (C >= 32 andalso C =< 126) orelse C >= 160 end, binary_to_list(B)),
    Forms = [bytes] ++ [latin || Latin] ++ [utf8 || Utf8 =/= false, lists:any(fun(C) -> C > 127 end, Utf8)]
        ++ [mixed || byte_size(B) >= 2],
    case pick(Forms) of
        bytes -> ["<<", join_ws([integer_to_list(X) || <<X>> <= B], ","), ">>"];
        latin -> ["<<\"", [esc(C, $", Enc) || C <- binary_to_list(B)], "\">>"];
        utf8 -> ["<<\"", [esc(C, $", Enc) || C <- Utf8], "\"/utf8>>"];
        mixed ->
            {P1, P2} = split_binary(B, between(1, byte_size(B) - 1)),
            Seg = fun(<<N:16>>) -> pick([[integer_to_list(N), ":16"], [integer_to_list(N bsr 8), ",", integer_to_list(N band 255)]]);
                     (P) -> lists:join(",", [integer_to_list(X) || <<X>> <= P])
                  end,
            ["<<", Seg(P1), ",", Seg(P2), ">>"]
    end.

%%% ---------------------------------------------------------------- random terms

gen_term(0) -> gen_scalar();
gen_term(D) ->
    case wpick([{10, scalar}, {3, tuple}, {3, list}, {1, improper}, {2, map}, {1, proplist}]) of
        scalar -> gen_scalar();
        tuple -> list_to_tuple([gen_term(D - 1) || _ <- lists:seq(1, between(0, 4))]);
        list -> [gen_term(D - 1) || _ <- lists:seq(1, between(0, 5))];
        improper -> [gen_term(D - 1) || _ <- lists:seq(1, between(1, 3))] ++ gen_scalar_nonlist();
        map -> gen_map(D);
        proplist -> [{gen_atom(), gen_term(D - 1)} || _ <- lists:seq(1, between(1, 4))]
    end.

gen_scalar() ->
    case wpick([{5, atom}, {5, int}, {3, float}, {5, string}, {3, binary}, {1, special}]) of
        atom -> gen_atom();
        int -> gen_int();
        float -> gen_float();
        string -> gen_string();
        binary -> gen_binary();
        %% External funs are legal literals in a .app but exotic: keep them rare enough
        %% that they do not hide other differences.
        special -> case rand:uniform() of
                       R when R < 0.02 -> pick([fun erlang:abs/1, fun lists:map/2, fun 'Mod':'f f'/0]);
                       R when R < 0.06 -> gen_big();
                       _ -> pick([<<1:3>>, <<255, 7:5>>, {}, [[]], [""], [128, 159, 160], [0]])
                   end
    end.

%% Sizes where the external format changes representation: STRING_EXT holds at most
%% 65535 elements, SMALL_TUPLE_EXT 255 elements.
gen_big() ->
    pick([lists:duplicate(65535, $a), lists:duplicate(65536, $b), lists:seq(1, 70000) -- [],
          list_to_tuple(lists:seq(1, 255)), list_to_tuple(lists:duplicate(256, x)),
          binary:copy(<<"0123456789">>, 7000), lists:duplicate(300, 1.5)]).

gen_scalar_nonlist() ->
    case gen_scalar() of
        L when is_list(L) -> tail;
        X -> X
    end.

gen_atom() ->
    case chance(0.6) of
        true -> pick([ok, key, timeout, port, name, level, true, false, undefined, infinity, nil, x1, a_b, 'a@b']);
        false -> pick(['hello world', 'αβ', 'Caps', 'else', 'maybe', 'end', 'after', 'receive', '', 'with\'quote',
                       'back\\slash', 'tab\there', 'nl\nx', 'é', 'ÿ', 'ß', 'a.b', '_under', 'Ωmega', '日本',
                       'A', '$', list_to_atom([128512]), '\x{7F}', 'x\x{0}y', 'Ä', '×', 'ÿÿ', 'ok ',
                       list_to_atom(lists:duplicate(255, $a)), list_to_atom(lists:duplicate(255, 945)),
                       list_to_atom(lists:duplicate(128, 233))])
    end.

gen_int() ->
    pick([0, 1, 42, 255, 256, -1, -255, -256, 1000000, 16#7fffffff, -16#80000000, 16#80000000,
          -16#80000001, 1 bsl 32, 1 bsl 63, 1 bsl 64, -(1 bsl 64), 1 bsl 100, -(1 bsl 100),
          (1 bsl 2040) - 1, 1 bsl 2100, -(1 bsl 2100), between(-1000, 1000), between(0, 1 bsl 50)]).

gen_float() ->
    pick([0.1, 1.0, 1.0e100, -0.0, 0.0, 1.0e-10, 1.5, -2.5, 123.456, 9007199254740992.0,
          9007199254740993.0, 1.0e15, 1.0e16, 1.0e22, 1.0e23, 5.0e-324, 2.2250738585072014e-308,
          1.7976931348623157e308, 0.30000000000000004, 100.0, 1.0e21, 123456789012345680.0,
          rand:uniform() * 1000, (rand:uniform() - 0.5) * 1.0e-5, rand:normal() * 1.0e30]).

gen_string() ->
    pick(["", "abc", "with \"quotes\"", "tab\there", "nl\n", "αβγ", "café", [128512], [0, 1, 27, 127],
          [160, 200, 255], "$ROOT/lib", "back\\slash", "x", "%not a comment", "'single'", [256, 1000],
          lists:duplicate(300, $z), "\x{7FF}\x{800}\x{FFFD}"]).

gen_binary() ->
    pick([<<>>, <<"abc">>, <<"é"/utf8>>, <<1, 2, 3>>, <<255>>, <<"αβ"/utf8>>, <<"café">>, <<0, 0>>,
          random_bytes(between(1, 12)), <<"with \"q\" and \\">>, <<"\n\t">>]).

%% rand-based bytes keep every case a pure function of its seed.
random_bytes(N) -> list_to_binary([rand:uniform(256) - 1 || _ <- lists:seq(1, N)]).

gen_map(D) ->
    Size = case chance(0.05) of true -> between(20, 32); false -> between(0, 5) end,
    Pairs = [{gen_key(), gen_term(D - 1)} || _ <- lists:seq(1, Size)],
    M = maps:from_list(Pairs),
    case chance(0.05) of
        %% 1 and 1.0 are different keys; their order is part of the encoding
        true -> M#{1 => int_one, 1.0 => float_one};
        false -> M
    end.

gen_key() ->
    case wpick([{4, atom}, {3, int}, {1, float}, {2, string}, {1, tuple}, {1, binary}]) of
        atom -> gen_atom();
        int -> gen_int();
        float -> gen_float();
        string -> gen_string();
        tuple -> {gen_atom(), gen_int()};
        binary -> gen_binary()
    end.

%%% ---------------------------------------------------------------- randomness

chance(P) -> rand:uniform() < P.

between(Lo, Hi) when Hi >= Lo -> Lo + rand:uniform(Hi - Lo + 1) - 1.

pick(L) -> lists:nth(rand:uniform(length(L)), L).

wpick(WL) ->
    Total = lists:sum([W || {W, _} <- WL]),
    wpick(rand:uniform(Total), WL).

wpick(N, [{W, X} | _]) when N =< W -> X;
wpick(N, [{W, _} | T]) -> wpick(N - W, T).

shuffle(L) -> [X || {_, X} <- lists:sort([{rand:uniform(), X} || X <- L])].
