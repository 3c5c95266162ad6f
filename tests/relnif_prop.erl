%% SPDX-License-Identifier: Apache-2.0
%% @doc Property test (issue 13, item 6): every `relnif' entry point driven with malformed
%% or mutated input files and random option lists, in ONE long-lived VM started as a
%% separate OS process (a `peer' over standard_io), so that a crash of that VM is detected
%% and counted instead of killing the test runner.
%%
%% Each case (seeded, reproducible with `run_one(Seed, Case)') copies a valid base release
%% made from the running OTP's kernel, stdlib and sasl `.app' files (tiny stand-in beams),
%% two versions of a small application `pa' with an appup, `sys.config', `relup', `.script'
%% and `.boot' into `_build/prop/case-N', then mutates some of those files (truncation,
%% flipped bytes, deep nesting, huge integers, invalid UTF-8, code points above 16#10FFFF,
%% wrong shapes, missing files, directories where files belong, symlinks) and runs every
%% entry point with random options (valid keys with wrong values, unknown keys, improper
%% lists). FIFOs are not generated: they block systools' own reads too.
%%
%% Per call the peer first runs the systools counterpart (if any), then relnif, each in a
%% process with its output swallowed and a time bound. A case fails on: the VM gone (crash),
%% a relnif call over the bound (hang), relnif raising where the counterpart does not raise
%% the same class (undocumented exception), a result outside the documented shapes,
%% `format_error/1' or `format_warning/1' raising or not giving iodata, or an output file
%% changed although relnif returned an error (half-written).
-module(relnif_prop).

-export([run/2, run/3, run_one/2, format_report/1]).
%% Run inside the peer.
-export([exec/2]).

-define(CALL_TIMEOUT, 20000).

%%% ================================================================ runner

%% @doc Runs `N' cases from master seed `Seed'; returns a report map.
run(N, Seed) -> run(N, Seed, #{}).

run(N, Seed, Opts) ->
    Root = filename:absname(filename:join(["_build", "prop"])),
    Base = filename:join(Root, "base"),
    %% Case directories of an earlier run (kept when they failed) go first.
    _ = maps:get(keep, Opts, false) orelse
        lists:foreach(fun(D) -> file:del_dir_r(D) end, filelib:wildcard(filename:join(Root, "case-*"))),
    ok = make_base(Base),
    Tmo = maps:get(timeout, Opts, ?CALL_TIMEOUT),
    Keep = maps:get(keep, Opts, false),
    Cases = maps:get(cases, Opts, lists:seq(1, N)),
    T0 = erlang:monotonic_time(millisecond),
    {Vm, Acc} = lists:foldl(
                  fun(I, {Vm0, A}) -> one_case(Root, Base, Seed, I, Tmo, Keep, Vm0, A) end,
                  {start_vm(), #{cases => 0, calls => 0, crashes => [], hangs => [], undocumented => [],
                                 bad_results => [], format_raised => [], half_written => [],
                                 systools_hangs => 0, relnif_raised_as_systools => 0, known => []}},
                  Cases),
    stop_vm(Vm),
    Acc#{seed => Seed, millis => erlang:monotonic_time(millisecond) - T0}.

%% @doc Reruns one case (`Case' of master seed `Seed') and keeps its directory.
run_one(Seed, Case) -> run(1, Seed, #{cases => [Case], keep => true}).

one_case(Root, Base, Seed, I, Tmo, Keep, Vm, Acc0) ->
    rand:seed(exsss, {erlang:phash2({Seed, I}), erlang:phash2({I, Seed, prop}), erlang:phash2([Seed | I])}),
    Dir = filename:join(Root, "case-" ++ integer_to_list(I)),
    _ = file:del_dir_r(Dir),
    ok = copy_tree(Base, Dir),
    Muts = mutate(Dir),
    Calls = calls(Dir),
    Acc1 = Acc0#{cases := maps:get(cases, Acc0) + 1},
    _ = I rem 100 =:= 0 andalso file:write_file(filename:join(Root, "progress"), integer_to_list(I)),
    {Vm1, Acc, Failed} = run_calls(Calls, {Seed, I}, Dir, Muts, Tmo, Vm, Acc1, false),
    _ = Failed orelse Keep orelse file:del_dir_r(Dir),
    {Vm1, Acc}.

run_calls([], _Id, _Dir, _Muts, _Tmo, Vm, Acc, Failed) ->
    {Vm, Acc, Failed};
run_calls([Call | Rest], Id, Dir, Muts, Tmo, {Peer, _} = Vm, Acc0, Failed) ->
    Acc = Acc0#{calls := maps:get(calls, Acc0) + 1},
    What = #{seed => Id, call => short(call_name(Call)), mutations => Muts},
    Res = try peer:call(Peer, ?MODULE, exec, [{Dir, Call}, Tmo], 3 * Tmo + 10000)
          catch Class:Reason -> {peer_failed, Class, Reason}
          end,
    case Res of
        {peer_failed, _, _} ->
            %% The VM is gone or stuck: a crash if it no longer answers, a hang otherwise.
            Key = case alive(Vm) of true -> hangs; false -> crashes end,
            stop_vm(Vm),
            {start_vm(), add(Key, What#{detail => short(Res)}, Acc), true};
        Verdicts ->
            {Acc1, F1} = lists:foldl(fun(V, {A, F}) -> verdict(V, What, A, F) end, {Acc, Failed}, Verdicts),
            case alive(Vm) of
                true when not is_map_key(restart, Acc1) ->
                    run_calls(Rest, Id, Dir, Muts, Tmo, Vm, Acc1, F1);
                true ->
                    stop_vm(Vm),
                    run_calls(Rest, Id, Dir, Muts, Tmo, start_vm(), maps:remove(restart, Acc1), F1);
                false ->
                    stop_vm(Vm),
                    {start_vm(), add(crashes, What#{detail => after_call}, maps:remove(restart, Acc1)), true}
            end
    end.

verdict(ok, _What, Acc, F) -> {Acc, F};
verdict(systools_hang, _What, Acc, F) -> {Acc#{systools_hangs := maps:get(systools_hangs, Acc) + 1}, F};
verdict(same_class, _What, Acc, F) ->
    {Acc#{relnif_raised_as_systools := maps:get(relnif_raised_as_systools, Acc) + 1}, F};
verdict({hang, D}, What, Acc, _) -> {(add(hangs, What#{detail => D}, Acc))#{restart => true}, true};
verdict({Key, {Sig, D}}, What, Acc, _) -> {add(Key, What#{detail => D, sig => Sig}, Acc), true};
verdict({Key, D}, What, Acc, _) -> {add(Key, What#{detail => D}, Acc), true}.

add(Key, Item, Acc) -> Acc#{Key := maps:get(Key, Acc) ++ [Item]}.

alive({Peer, _}) ->
    try peer:call(Peer, erlang, node, [], 10000) of _ -> true
    catch _:_ -> false
    end.

start_vm() ->
    Pa = lists:usort([filename:dirname(code:which(M)) || M <- [relnif, ?MODULE]]),
    {ok, Peer, _} = peer:start(#{connection => standard_io, wait_boot => 60000,
                                 args => lists:append([["-pa", P] || P <- Pa])}),
    OsPid = peer:call(Peer, os, getpid, []),
    {module, relnif} = peer:call(Peer, code, ensure_loaded, [relnif]),
    {Peer, OsPid}.

stop_vm({Peer, OsPid}) ->
    %% Only the OS process this runner started, by its id.
    _ = os:cmd("kill -9 " ++ OsPid ++ " 2>/dev/null"),
    try peer:stop(Peer) catch _:_ -> ok end.

call_name({Name, Args, _Ref, _Targets, _IllTyped}) -> {Name, Args}.

short(T) -> lists:flatten(io_lib:format("~P", [T, 12])).

%% @doc The report as text.
format_report(R) ->
    Lists = [crashes, hangs, undocumented, bad_results, format_raised, half_written, known],
    Head = io_lib:format("relnif_prop: seed ~p, ~p cases, ~p calls in ~.1f s; VM crashes ~p, hangs ~p, "
                         "undocumented exceptions ~p, bad results ~p, format_error raised ~p, half-written ~p "
                         "(known divergences ~p; systools hangs ~p; relnif raised as systools did ~p)~n",
                         [maps:get(seed, R), maps:get(cases, R), maps:get(calls, R), maps:get(millis, R) / 1000
                          | [length(maps:get(K, R)) || K <- Lists]]
                         ++ [maps:get(systools_hangs, R), maps:get(relnif_raised_as_systools, R)]),
    %% Findings grouped by kind, function and (for exceptions) class, reason and raising
    %% function; each group with its count, three seeds and the first case in full.
    Groups = lists:foldl(fun({K, #{call := C} = I}, G) ->
                                 Sig = {K, hd(string:split(tl(C), ",")), maps:get(sig, I, none)},
                                 maps:update_with(Sig, fun(L) -> [I | L] end, [I], G)
                         end, #{}, [{K, I} || K <- Lists, I <- maps:get(K, R)]),
    Items = [begin
                 [#{call := C, mutations := M, detail := D0} | _] = Is = lists:reverse(Rev),
                 D = if is_list(D0) -> D0; true -> short(D0) end,
                 io_lib:format("  ~p x~p: ~ts ~ts~n    seeds ~ts (relnif_prop:run_one(Seed, Case))~n"
                               "    first: call ~ts~n    mutations ~ts~n    ~ts~n",
                               [K, length(Is), F, short(Sig), short(lists:sublist(lists:usort([Sd || #{seed := Sd} <- Is]), 5)),
                                C, short(M), D])
             end || {{K, F, Sig}, Rev} <- lists:sort(maps:to_list(Groups))],
    lists:flatten([Head | Items]).

%%% ================================================================ inside the peer

%% @doc Runs one call (the systools counterpart first, then relnif) and returns verdicts.
exec({Dir, {Name, Args, Ref, Targets, IllTyped}}, Tmo) ->
    ok = file:set_cwd(Dir),
    Sink = spawn(fun sink/0),
    RefRes = case Ref of
                 none -> none;
                 {M, F} -> guarded(M, F, Args, Sink, Tmo)
             end,
    Before = [{T, read(T)} || T <- Targets],
    Res = guarded(relnif, Name, Args, Sink, Tmo),
    exit(Sink, kill),
    Checks = [check_ref(RefRes), check_result(Name, Res, RefRes, IllTyped, Dir), check_format(Res, RefRes),
              check_written(Res, Before)],
    case [C || C <- Checks, C =/= ok] of
        [] -> [ok];
        Bad -> Bad
    end.

guarded(M, F, Args, Sink, Tmo) ->
    {Pid, MRef} = spawn_monitor(fun() ->
                                        group_leader(Sink, self()),
                                        exit({done, try {value, apply(M, F, Args)}
                                                    catch C:E:St -> {raised, C, E, St}
                                                    end})
                                end),
    receive
        {'DOWN', MRef, process, Pid, {done, R}} -> R;
        {'DOWN', MRef, process, Pid, Other} -> {raised, exit, Other, []}
    after Tmo ->
        exit(Pid, kill),
        hang
    end.

check_ref(hang) -> systools_hang;
check_ref(_) -> ok.

check_result(_Name, hang, _, _, _) -> {hang, relnif_call_over_bound};
check_result(_Name, {raised, C, E, St}, RefRes, IllTyped, Dir) ->
    Undocumented = {undocumented, {{C, head(E), top_frame(St)},
                                   short({C, E, lists:sublist(St, 3), systools, ref_summary(RefRes)})}},
    case RefRes of
        {raised, C, _, _} -> same_class;
        none when IllTyped, C =:= error -> same_class;
        {value, V} when V =:= error; is_tuple(V), element(1, V) =:= error ->
            %% Known divergences of fastrel's reader (README), not failed: an `.app' or
            %% `.rel' nested deeper than the reader's limit (systools reads it), or whose
            %% first bytes are invalid UTF-8 (OTP's io server answers `{error, tokens}'
            %% and systools crashes), is a syntax error for fastrel, and after one in an
            %% `.app' make_script goes on down the path, as systools does after a syntax
            %% error. Where systools stopped at that file, relnif can get further and
            %% raise on a later bad argument, as systools does once it gets there.
            case refused_by_design(Dir) of
                [] -> Undocumented;
                Files -> {known, {{C, head(E)}, short({C, E, Files, systools, ref_summary(RefRes)})}}
            end;
        _ -> Undocumented
    end;
check_result(Name, {value, V}, _, _, _) ->
    case shape_ok(Name, V) of
        true -> ok;
        false -> {bad_results, short(V)}
    end.

%% The case's `.app' and `.rel' files fastrel's reader refuses where systools does not.
refused_by_design(Dir) ->
    [{Why, T} || T <- targets(), lists:member(filename:extension(T), [".app", ".rel"]),
                 F <- [filename:join(Dir, T)], filelib:is_regular(F),
                 Why <- [refused_by_design(F, read(F))], Why =/= none].

refused_by_design(F, Bytes) when is_binary(Bytes) ->
    Text = case Bytes of <<16#EF, 16#BB, 16#BF, Rest/binary>> -> Rest; _ -> Bytes end,
    case {unicode:characters_to_binary(Text), relnif:consult(F)} of
        {{error, <<>>, _}, _} -> first_bytes_not_utf8;
        {_, {error, {_, fastrel_reader, "nesting too deep"}}} -> nesting_too_deep;
        _ -> none
    end;
refused_by_design(_, _) -> none.

head(T) when is_tuple(T), tuple_size(T) > 0 -> element(1, T);
head(T) -> T.

top_frame([{M, F, A, _} | _]) when is_list(A) -> {M, F, length(A)};
top_frame([{M, F, A, _} | _]) -> {M, F, A};
top_frame(_) -> none.

ref_summary({value, V}) -> {returned, V};
ref_summary({raised, C, E, _}) -> {raised, C, E};
ref_summary(X) -> X.

shape_ok(_, ok) -> true;
shape_ok(_, error) -> true;
shape_ok(_, {ok, _}) -> true;
shape_ok(_, {ok, relnif, _}) -> true;
shape_ok(_, {ok, _, relnif, _}) -> true;
shape_ok(_, {error, relnif, _}) -> true;
shape_ok(consult, {error, _}) -> true; % consult/1 is file:consult/1's shape
shape_ok(_, _) -> false.

%% format_error/1 may raise only where systools' own format_error/1 raises the same class
%% on systools' reason for the same call (systools_relup's has no clause for an appup of
%% the wrong shape, and relnif keeps that).
check_format({value, {error, relnif, R}}, RefRes) ->
    case format(format_error, R) of
        {format_raised, {C, _}} = Raised ->
            %% systools' own format_error on its reason for the same call or, when
            %% systools stopped elsewhere, on relnif's reason (the same term).
            Refs = case RefRes of
                       {value, {error, Mod, RefR}} -> [{Mod, RefR}];
                       _ -> []
                   end ++ [{M, R} || M <- [systools_make, systools_relup]],
            Same = lists:any(fun({M, T}) ->
                                     try M:format_error(T) of _ -> false
                                     catch C:_ -> true;
                                           _:_ -> false
                                     end
                             end, Refs),
            case Same of
                true -> same_class;
                false -> Raised
            end;
        Other -> Other
    end;
check_format({value, {ok, relnif, Ws}}, _) -> format(format_warning, Ws);
check_format({value, {ok, _, relnif, Ws}}, _) -> format(format_warning, Ws);
check_format(_, _) -> ok.

format(F, Arg) ->
    try relnif:F(Arg) of
        Io ->
            try unicode:characters_to_list(Io) of
                L when is_list(L) -> _ = lists:flatten(L), ok;
                Bad -> {format_raised, short({F, not_chardata, Bad})}
            catch C:E -> {format_raised, short({F, not_iodata, C, E})}
            end
    catch C:E -> {format_raised, {C, short({F, C, E, Arg})}}
    end.

check_written(Res, Before) ->
    Failed = case Res of
                 {value, error} -> true;
                 {value, {error, relnif, _}} -> true;
                 {raised, _, _, _} -> true;
                 _ -> false
             end,
    Changed = [T || Failed, {T, B} <- Before, read(T) =/= absent, read(T) =/= B],
    case Changed of
        [] -> ok;
        _ -> {half_written, short({changed, Changed, Res})}
    end.

read(F) ->
    case file:read_file(F) of
        {ok, B} -> B;
        {error, enoent} -> absent;
        {error, R} -> {error, R}
    end.

sink() ->
    receive
        {io_request, From, ReplyAs, Req} ->
            From ! {io_reply, ReplyAs, sink_reply(Req)},
            sink();
        _ -> sink()
    end.

sink_reply({get_chars, _, _}) -> eof;
sink_reply({get_chars, _, _, _}) -> eof;
sink_reply({get_line, _}) -> eof;
sink_reply({get_line, _, _}) -> eof;
sink_reply({get_until, _, _, _, _}) -> eof;
sink_reply({get_until, _, _, _}) -> eof;
sink_reply(getopts) -> [];
sink_reply({get_geometry, _}) -> {error, enotsup};
sink_reply(_) -> ok.

%%% ================================================================ the base release

make_base(Base) ->
    _ = file:del_dir_r(Base),
    Apps = [{A, app_vsn(A)} || A <- [kernel, stdlib, sasl]],
    [ok = copy_app(Base, A, V) || {A, V} <- Apps],
    ok = pa_app(Base, "1.0"),
    ok = pa_app(Base, "1.1"),
    ok = write_term(filename:join([Base, "lib", "pa-1.1", "ebin", "pa.appup"]),
                    {"1.1", [{"1.0", [{load_module, pa}]}], [{"1.0", [{load_module, pa}]}]}),
    Erts = erlang:system_info(version),
    Rel = fun(V, PaV) -> {release, {"r", V}, {erts, Erts}, [{A, AV} || {A, AV} <- Apps] ++ [{pa, PaV}]} end,
    ok = write_term(filename:join(Base, "r.rel"), Rel("1", "1.1")),
    ok = write_term(filename:join(Base, "r0.rel"), Rel("0", "1.0")),
    ok = write_term(filename:join(Base, "sys.config"), [{kernel, [{logger_level, info}]}, {pa, [{k, "v"}]}]),
    {ok, Cwd} = file:get_cwd(),
    try
        ok = file:set_cwd(Base),
        Path = {path, ["lib/*/ebin"]},
        {ok, _, _} = systools:make_script("r", [silent, Path]),
        {ok, _, _} = systools:make_script("r0", [silent, Path]),
        {ok, _, _, _} = systools:make_relup("r", ["r0"], ["r0"], [silent, Path, {outdir, "."}]),
        ok
    after
        file:set_cwd(Cwd)
    end.

app_vsn(A) ->
    _ = application:load(A),
    {ok, V} = application:get_key(A, vsn),
    V.

copy_app(Base, A, V) ->
    Ebin = filename:join([Base, "lib", atom_to_list(A) ++ "-" ++ V, "ebin"]),
    ok = filelib:ensure_path(Ebin),
    AppFile = filename:join([code:lib_dir(A), "ebin", atom_to_list(A) ++ ".app"]),
    {ok, [{application, A, Props}]} = file:consult(AppFile),
    {ok, _} = file:copy(AppFile, filename:join(Ebin, atom_to_list(A) ++ ".app")),
    [ok = file:write_file(filename:join(Ebin, atom_to_list(M) ++ ".beam"), <<"FOR1 stand-in">>)
     || M <- proplists:get_value(modules, Props, [])],
    ok.

pa_app(Base, V) ->
    Ebin = filename:join([Base, "lib", "pa-" ++ V, "ebin"]),
    ok = filelib:ensure_path(Ebin),
    ok = write_term(filename:join(Ebin, "pa.app"),
                    {application, pa, [{description, "prop"}, {vsn, V}, {modules, [pa]}, {registered, []},
                                       {applications, [kernel, stdlib, sasl]}]}),
    file:write_file(filename:join(Ebin, "pa.beam"), <<"FOR1 stand-in">>).

write_term(F, T) -> file:write_file(F, io_lib:format("~tp.~n", [T])).

copy_tree(From, To) -> copy_tree_(From, To).

copy_tree_(From, To) ->
    case filelib:is_dir(From) of
        true ->
            ok = filelib:ensure_path(To),
            {ok, Names} = file:list_dir(From),
            lists:foreach(fun(N) -> ok = copy_tree_(filename:join(From, N), filename:join(To, N)) end, Names);
        false ->
            %% The stand-in beams are never mutated nor written: hard links save the copy.
            case filename:extension(From) =:= ".beam" andalso filename:basename(From) =/= "pa.beam" of
                true -> file:make_link(From, To);
                false -> {ok, _} = file:copy(From, To), ok
            end
    end.

%%% ================================================================ mutations

%% Files a case may mutate, relative to the case directory.
targets() ->
    ["r.rel", "r0.rel", "sys.config", "relup", "r.script", "r.boot", "r0.boot",
     "lib/pa-1.1/ebin/pa.app", "lib/pa-1.0/ebin/pa.app", "lib/pa-1.1/ebin/pa.appup",
     "lib/kernel-" ++ app_vsn(kernel) ++ "/ebin/kernel.app", "lib/stdlib-" ++ app_vsn(stdlib) ++ "/ebin/stdlib.app",
     "lib/sasl-" ++ app_vsn(sasl) ++ "/ebin/sasl.app", "lib/pa-1.1/ebin/pa.beam", "r.tar.gz"].

mutate(Dir) ->
    N = case rand:uniform(10) of 1 -> 0; X when X < 7 -> 1; X when X < 10 -> 2; _ -> 4 end,
    [mutate_one(Dir) || _ <- lists:seq(1, N)].

mutate_one(Dir) ->
    T = pick(targets()),
    F = filename:join(Dir, T),
    Op = pick([truncate, flip, nest, huge_int, bad_utf8, big_char, shape, shape, missing, directory, symlink,
               empty, binterm, garbage]),
    %% Write the case's own file, not what an earlier mutation's symlink points to.
    _ = case file:read_link_info(F) of
            {ok, Info} when element(3, Info) =:= symlink -> file:delete(F);
            _ -> ok
        end,
    _ = mutate_file(Op, F, T),
    {Op, T}.

mutate_file(truncate, F, _) ->
    B = old(F),
    file:write_file(F, binary:part(B, 0, rand:uniform(byte_size(B) + 1) - 1));
mutate_file(flip, F, _) ->
    B = old(F),
    case byte_size(B) of
        0 -> file:write_file(F, <<0>>);
        S -> file:write_file(F, lists:foldl(fun(_, Acc) -> flip(Acc, rand:uniform(S) - 1) end, B,
                                            lists:seq(1, rand:uniform(8))))
    end;
mutate_file(nest, F, _) ->
    D = pick([100, 1000, 10000, 100000]),
    {O, C} = pick([{"[", "]"}, {"{", "}"}, {"#{a=>", "}"}]),
    Deep = [lists:duplicate(D, O), "x", lists:duplicate(D, C)],
    case rand:uniform(2) of
        1 -> file:write_file(F, [Deep, ".\n"]);
        2 -> insert(F, Deep)
    end;
mutate_file(huge_int, F, _) ->
    Big = integer_to_list(rand:uniform(10) * pow10(pick([30, 300, 5000, 100000]))),
    Neg = pick(["", "-"]),
    case rand:uniform(3) of
        1 -> file:write_file(F, [Neg, Big, ".\n"]);
        2 -> insert(F, [Neg, Big]);
        3 -> replace_version(F, [Neg, Big])
    end;
mutate_file(bad_utf8, F, _) ->
    Bad = pick([<<16#C0, 16#AF>>, <<16#FF>>, <<16#ED, 16#A0, 16#80>>, <<16#F8, 16#88, 16#80, 16#80, 16#80>>, <<16#E2, 16#82>>]),
    case rand:uniform(3) of
        1 -> insert(F, Bad);
        2 -> insert(F, [$", Bad, $"]);
        3 -> file:write_file(F, ["%% coding: utf-8\n", old(F), "\n\"", Bad, "\".\n"])
    end;
mutate_file(big_char, F, _) ->
    Esc = pick(["\"\\x{110000}\"", "\"\\x{FFFFFFFF}\"", "\"\\x{D800}\"", "[1114112]", "$\\x{110000}", "'\\x{110000}'"]),
    case rand:uniform(2) of
        1 -> insert(F, Esc);
        2 -> replace_version(F, Esc)
    end;
mutate_file(shape, F, T) ->
    Term = case rand:uniform(3) of
               1 -> random_term(4);
               2 -> near_shape(T);
               3 -> perturb(near_shape(T))
           end,
    case filename:extension(T) of
        ".boot" -> file:write_file(F, term_to_binary(Term));
        _ -> file:write_file(F, io_lib:format("~tp.~n", [Term]))
    end;
mutate_file(missing, F, _) ->
    file:delete(F);
mutate_file(directory, F, _) ->
    _ = file:del_dir_r(F),
    _ = file:delete(F),
    file:make_dir(F);
mutate_file(symlink, F, _) ->
    _ = file:del_dir_r(F),
    _ = file:delete(F),
    Target = pick([filename:basename(F), "nonexistent", "..", ".", "../..", "../r.rel", "r.rel", "sys.config",
                   "../../r.boot"]),
    file:make_symlink(Target, F);
mutate_file(empty, F, _) ->
    file:write_file(F, <<>>);
mutate_file(binterm, F, T) ->
    file:write_file(F, term_to_binary(pick([random_term(3), near_shape(T)])));
mutate_file(garbage, F, _) ->
    file:write_file(F, rand:bytes(rand:uniform(4096))).

perturb(T) when is_tuple(T), tuple_size(T) > 0 -> setelement(rand:uniform(tuple_size(T)), T, random_term(3));
perturb([_ | _] = L) ->
    {H, [_ | R]} = lists:split(rand:uniform(length(L)) - 1, L),
    H ++ [random_term(3) | R];
perturb(_) -> random_term(3).

near_shape(T) ->
    case filename:extension(T) of
        ".rel" -> {release, {"r", random_term(1)}, {erts, random_term(1)}, [{kernel, random_term(1)}, random_term(2)]};
        ".app" -> {application, pa, [{vsn, random_term(1)}, {modules, random_term(2)}, {applications, random_term(2)}]};
        ".appup" -> {"1.1", [{"1.0", random_term(2)}], random_term(2)};
        ".config" -> [{kernel, random_term(2)}, random_term(2)];
        ".script" -> {script, {"r", random_term(1)}, [{preLoaded, random_term(1)}, {progress, random_term(1)}, random_term(2)]};
        ".boot" -> {script, {random_term(1), "1"}, random_term(3)};
        _ when T =:= "relup" -> {"1", [{"0", random_term(1), random_term(2)}], random_term(2)};
        _ -> {random_term(1), random_term(1)}
    end.

random_term(0) ->
    pick_fun([fun() -> rand:uniform(1000) - 500 end,
              fun() -> pow10(pick([20, 400])) end,
              fun() -> rand:uniform() * 1.0e10 end,
              fun() -> pick([a, ok, error, undefined, 'Weird atom', '\x{1F600}', kernel, script]) end,
              fun() -> pick(["", "1.0", "r", "lib/*/ebin", [16#1F600, $a], [1114111]]) end,
              fun() -> rand:bytes(rand:uniform(8)) end]);
random_term(D) ->
    pick_fun([fun() -> random_term(0) end,
              fun() -> [random_term(D - 1) || _ <- lists:seq(1, rand:uniform(4) - 1)] end,
              fun() -> list_to_tuple([random_term(D - 1) || _ <- lists:seq(1, rand:uniform(4) - 1)]) end,
              fun() -> [random_term(D - 1) | random_term(0)] end,
              fun() -> #{random_term(0) => random_term(D - 1)} end]).

old(F) ->
    case file:read_file(F) of
        {ok, B} -> B;
        _ -> <<>>
    end.

flip(B, Pos) ->
    <<Pre:Pos/binary, Byte, Post/binary>> = B,
    <<Pre/binary, (Byte bxor (1 bsl (rand:uniform(8) - 1))), Post/binary>>.

insert(F, What) ->
    B = old(F),
    Pos = rand:uniform(byte_size(B) + 1) - 1,
    <<Pre:Pos/binary, Post/binary>> = B,
    file:write_file(F, [Pre, What, Post]).

%% Replaces the first quoted version-like string with `What'.
replace_version(F, What) ->
    B = old(F),
    file:write_file(F, re:replace(B, "\"[0-9][0-9.]*\"", What, [{return, binary}])).

pow10(N) -> binary_to_integer(iolist_to_binary(["1", lists:duplicate(N, $0)])).

pick(L) -> lists:nth(rand:uniform(length(L)), L).

pick_fun(Fs) -> (pick(Fs))().

%%% ================================================================ calls and options

%% Each call: {relnif function, Args, systools counterpart | none, files it must not
%% half-write, whether Args break relnif's own spec (then `error' raises are allowed when
%% there is no counterpart)}.
calls(Dir) ->
    Rel = rel_name(Dir),
    Rel0 = pick(["r0", filename:join(Dir, "r0"), r0]),
    SOpts = opts(script),
    TOpts = opts(tar),
    UOpts = opts(relup),
    Boot = pick_filename(Dir, pick(["r.boot", "r0.boot", "r.script", "missing.boot", "lib"])),
    Script = pick(["r.script", filename:join(Dir, "r.script"), "r0.script"]),
    Script2 = pick(["out.script", "r.script", filename:join(Dir, "lib"), "nodir/out.script"]),
    Out = pick_filename(Dir, pick(["files.tar.gz", "r.tar.gz", "lib", "nodir/x.tar.gz"])),
    Entries = entries(),
    TfOpts = opts(tar_files),
    Consult = pick(["r.rel", "sys.config", "r.script", "relup", "r.boot", "lib/pa-1.1/ebin/pa.appup", "nonexistent"]),
    [{script2boot, [Script], {systools, script2boot}, [root(Dir, strip(Script)) ++ ".boot"], false},
     {script2boot_silent, [Script], {systools, script2boot}, [root(Dir, strip(Script)) ++ ".boot"], false},
     {boot2script, [Boot], none, [], not is_filename(Boot)},
     {boot2script, [Boot, Script2], none, [root(Dir, Script2)], not is_filename(Boot)},
     {consult, [Consult], {file, consult}, [], false},
     case rand:uniform(4) of
         1 -> {make_script, [one_arg(Rel, SOpts)], {systools, make_script}, script_targets(Dir, Rel, SOpts), false};
         _ -> {make_script, [Rel, SOpts], {systools, make_script}, script_targets(Dir, Rel, SOpts), false}
     end,
     case rand:uniform(4) of
         1 -> {make_tar, [one_arg(Rel, TOpts)], {systools, make_tar}, tar_targets(Dir, Rel, TOpts), false};
         _ -> {make_tar, [Rel, TOpts], {systools, make_tar}, tar_targets(Dir, Rel, TOpts), false}
     end,
     case rand:uniform(4) of
         1 -> {make_relup, [Rel, [Rel0], [Rel0]], {systools, make_relup}, [filename:join(Dir, "relup")], false};
         _ -> {make_relup, [Rel, pick([[Rel0], [{Rel0, "d"}], [], Rel0, [Rel0, Rel0]]), [Rel0], UOpts],
               {systools, make_relup}, relup_targets(Dir, UOpts), false}
     end,
     %% Improper option lists are not ill-typed here: relnif must not raise on them.
    {tar_files, [Out, Entries, TfOpts], none, [root(Dir, Out)],
     not (is_filename(Out) andalso is_entries(Entries) andalso is_list(TfOpts))}].

rel_name(Dir) ->
    case rand:uniform(10) of
        1 -> filename:join(Dir, "r");
        2 -> pick(["missing", "lib", "r.rel", "", "sys"]);
        3 -> pick([r, 42, {r}, <<"r">>, [r, silent]]);
        _ -> "r"
    end.

one_arg(Rel, Opts) when is_list(Rel), Rel =/= [] ->
    case is_flat_chars(Rel) andalso rand:uniform(2) of
        false -> Rel;
        1 -> Rel;
        2 -> [list_to_atom(Rel) | [O || O <- proper(Opts), is_atom(O)]]
    end;
one_arg(Rel, _) -> Rel.

proper(L) when is_list(L) ->
    try length(L) of _ -> L
    catch error:badarg -> []
    end;
proper(_) -> [].

strip(S) when is_list(S) -> filename:rootname(S);
strip(S) -> S.

root(Dir, F) when is_list(F); is_binary(F); is_atom(F) ->
    try filename:absname(filename:flatten(F), Dir) of A -> A
    catch _:_ -> filename:join(Dir, "unnamed")
    end;
root(Dir, _) -> filename:join(Dir, "unnamed").

pick_filename(Dir, F) ->
    case rand:uniform(10) of
        1 -> list_to_atom(F);
        2 -> list_to_binary(F);
        3 -> filename:join(Dir, F);
        4 -> pick([42, {F}, [F | x], [$a, 16#110000], [-1]]);
        _ -> F
    end.

is_filename(F) when is_atom(F); is_binary(F) -> true;
is_filename(F) when is_list(F) -> is_flat_chars(F);
is_filename(_) -> false.

is_flat_chars([C | T]) when is_integer(C), C >= 0, C =< 16#10FFFF -> is_flat_chars(T);
is_flat_chars([]) -> true;
is_flat_chars(_) -> false.

is_entries(E) when is_list(E) ->
    try lists:all(fun({F, T}) -> is_filename(F) andalso is_flat_chars(T); (_) -> false end, E)
    catch _:_ -> false
    end;
is_entries(_) -> false.

entries() ->
    %% Nothing above the case directory is packed: `..' would take every kept case with it.
    Good = [{"lib/pa-1.1", "lib/pa-1.1"}, {"r.rel", "releases/1/r.rel"}, {"sys.config", "releases/1/sys.config"}],
    case rand:uniform(6) of
        1 -> [pick([{"nonexistent", "x"}, {"lib", "../escape"}, {"/etc/hostname", "abs"}, {"r.rel", "/abs"},
                    {"lib/pa-1.1/ebin/pa.beam", ""}, {"lib/..", "up"}, {'r.rel', "a"}, {<<"r.rel">>, "b"}]) | Good];
        2 -> pick([[{"r.rel"} | Good], [x | Good], Good ++ bad_tail, 42, [{"r.rel", x}], [{42, "x"}]]);
        _ -> Good
    end.

script_targets(Dir, Rel, Opts) ->
    Base = base_of(Rel),
    D = outdir(Dir, Opts, Dir),
    [filename:join(D, Base ++ ".script"), filename:join(D, Base ++ ".boot")].

tar_targets(Dir, Rel, Opts) ->
    [filename:join(outdir(Dir, Opts, Dir), base_of(Rel) ++ ".tar.gz")].

relup_targets(Dir, Opts) ->
    [filename:join(outdir(Dir, Opts, Dir), "relup")].

base_of(Rel) when is_list(Rel) ->
    try filename:basename(filename:flatten(Rel)) of B -> B
    catch _:_ -> "r"
    end;
base_of(_) -> "r".

outdir(Dir, Opts, Default) ->
    case [D || {outdir, D} <- proper(Opts), is_list(D)] of
        [D | _] -> root(Dir, D);
        [] -> Default
    end.

%% A mostly valid option list with some noise.
opts(Kind) ->
    Valid = valid_opts(Kind),
    Base = [O || O <- Valid, rand:uniform(3) > 1],
    Noise = [noise(Kind) || _ <- lists:seq(1, case rand:uniform(4) of 1 -> rand:uniform(3); _ -> 0 end)],
    L = shuffle(Base ++ Noise),
    case rand:uniform(12) of
        1 -> improper(L);
        2 -> pick([silent, 42, {silent}, <<"opts">>]);
        _ -> L
    end.

valid_opts(script) ->
    [silent, {path, ["lib/*/ebin"]}, pick([local, no_dot_erlang, src_tests, no_warn_sasl, no_module_tests,
                                          warnings_as_errors]),
     pick([{outdir, "out"}, {outdir, "."}, {variables, [{"ROOT", "/tmp/root"}]}, {script_name, "other"}])];
valid_opts(tar) ->
    [silent, {path, ["lib/*/ebin"]},
     pick([{dirs, [include]}, {variables, [{"ROOT", "/tmp/root"}]}, {var_tar, omit}, no_warn_sasl,
           {extra_files, [{"sys.config", "extra/sys.config"}]}, {outdir, "out"}, {compression_level, 1},
           {reproducible, true}, {follow_symlinks, inside}])];
valid_opts(relup) ->
    [silent, {path, ["lib/*/ebin"]}, {outdir, "."}, pick([noexec, restart_emulator, warnings_as_errors, {outdir, "out"}])];
valid_opts(tar_files) ->
    [pick([{compression_level, 1}, {reproducible, true}, {follow_symlinks, inside}, {follow_symlinks, outside}])].

noise(_Kind) ->
    pick_fun([fun() -> {path, pick([42, "lib/*/ebin", [42], [x], ["/nonexistent/*"], ["lib/*/ebin" | x]])} end,
              fun() -> {outdir, pick([x, 42, "nodir/deeper", "r.rel", [1114112], "lib"])} end,
              fun() -> {variables, pick([x, [x], [{"ROOT", x}], [{42, "/x"}]])} end,
              fun() -> {dirs, pick([x, [42], ["src"], [src, include]])} end,
              fun() -> {erts, pick([x, "/nonexistent/erts", 42])} end,
              fun() -> {extra_files, pick([x, [x], [{"nonexistent", "x"}], [{"r.rel", "/abs"}], [{"r.rel", "../up"}]])} end,
              fun() -> {compression_level, pick([-1, 10, x, 1.5, 99999999999999999999])} end,
              fun() -> {reproducible, pick([yes, 1, "true"])} end,
              fun() -> {follow_symlinks, pick([always, 1])} end,
              fun() -> {script_name, pick([x, 42, "", "a/b"])} end,
              fun() -> {exref, pick([x, [42], [kernel]])} end,
              fun() -> {var_tar, pick([x, "omit"])} end,
              fun() -> pick([unknown_key, {unknown, 1}, "silent", 42, {}, {silent}, [silent], #{}]) end]).

improper([]) -> bad_tail;
improper(L) ->
    {H, T} = lists:split(length(L) - 1, L),
    H ++ [hd(T) | pick([bad_tail, {silent}, 42, <<"x">>])].

shuffle(L) -> [X || {_, X} <- lists:sort([{rand:uniform(), X} || X <- L])].
