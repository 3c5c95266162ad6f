%% SPDX-License-Identifier: Apache-2.0
%% @doc Differential test of `relnif:make_relup/4' against `systools:make_relup/4'.
%%
%% Each case is a random release chain (a top release and several bases, with added,
%% removed and changed applications, erts changes, and appups using every high- and
%% low-level instruction kind, some of them broken on purpose) written as text to
%% `_build/relup_diff/<Seed>-<I>'. Both tools run in this VM with random options, each
%% writing into its own outdir; return values (module atoms aside), raised exceptions,
%% printed output, formatted error and warning texts and `relup' bytes must agree.
%%
%% A case is a pure function of `{Seed, I}'. The fixture writer and the comparison are
%% also used by the focused tests (relnif_relup_tests).
-module(fastrel_relup_diff).

-export([run/2, run_case/2, summary_line/2, format_mismatch/1, distribution/1,
         write_fixture/2, compare/5, base_apps/0]).

-define(KERNEL, {kernel, "1.0"}).
-define(STDLIB, {stdlib, "1.0"}).
-define(SASL, {sasl, "3.0"}).

%%% ================================================================ fixtures

%% @doc The mandatory applications every fixture release starts with.
base_apps() -> [?KERNEL, ?STDLIB, ?SASL].

%% @doc Writes a fixture under `Dir'. `Spec' is
%% `#{rels => [{Name, Vsn, Erts, [{App, Vsn} | {App, Vsn, Type}]}],
%%    apps => [{App, Vsn, [Mod]} | {App, Vsn, [Mod], Appup}]}' where `Appup' is a term
%% (written with `~tp') or `{text, Text}'. Releases go to `Dir/Name.rel', applications
%% to `Dir/lib/App-Vsn/ebin'.
-spec write_fixture(file:filename(), map()) -> ok.
write_fixture(Dir, Spec) ->
    ok = filelib:ensure_dir(filename:join(Dir, "x")),
    lists:foreach(
      fun({raw, Name, Text}) ->
              ok = file:write_file(filename:join(Dir, Name ++ ".rel"), Text);
         ({Name, Vsn, Erts, Apps}) ->
              Rel = {release, {Name, Vsn}, {erts, Erts}, Apps},
              ok = file:write_file(filename:join(Dir, Name ++ ".rel"),
                                   unicode:characters_to_binary(io_lib:format("~tp.~n", [Rel])))
      end, maps:get(rels, Spec, [])),
    Mandatory = [{A, V, []} || {A, V} <- base_apps()],
    lists:foreach(fun(App) -> write_app(Dir, App) end, Mandatory ++ maps:get(apps, Spec, [])),
    ok.

write_app(Dir, {App, Vsn, Mods}) ->
    write_app(Dir, {App, Vsn, Mods, none});
write_app(Dir, {App, Vsn, Mods, Appup}) ->
    Ebin = filename:join([Dir, "lib", atom_to_list(App) ++ "-" ++ Vsn, "ebin"]),
    ok = filelib:ensure_dir(filename:join(Ebin, "x")),
    Uses = case lists:member(App, [kernel, stdlib, sasl]) of
               true -> [];
               false -> [kernel, stdlib]
           end,
    AppTerm = {application, App, [{description, "fixture"}, {vsn, Vsn}, {modules, Mods},
                                  {registered, []}, {applications, Uses}]},
    ok = file:write_file(filename:join(Ebin, atom_to_list(App) ++ ".app"),
                         io_lib:format("~p.~n", [AppTerm])),
    AppupFile = filename:join(Ebin, atom_to_list(App) ++ ".appup"),
    case Appup of
        none -> ok;
        {text, Text} -> ok = file:write_file(AppupFile, unicode:characters_to_binary(Text));
        Term -> ok = file:write_file(AppupFile, unicode:characters_to_binary(io_lib:format("~tp.~n", [Term])))
    end.

%%% ================================================================ comparison

%% @doc Runs both tools on `Dir' (release names relative to it) and compares. Returns
%% `ok' or `{mismatch, Details}'. `Opts' must not hold `outdir' (each tool gets its own,
%% unless `Opts' holds `{outdir, _}' on purpose: then both share it, in turn).
-spec compare(file:filename(), string(), list(), list(), list()) -> ok | {mismatch, list()}.
compare(Dir, Top, Up, Dn, Opts0) ->
    Abs = fun(N) when is_list(N) -> filename:join(Dir, N);
             ({N, D}) -> {filename:join(Dir, N), D};
             (Other) -> Other
          end,
    Path = [filename:join(Dir, "lib/*/ebin")],
    OwnOutdir = not lists:keymember(outdir, 1, Opts0),
    Run = fun(Mod, Sub) ->
                  Out = filename:join(Dir, Sub),
                  ok = filelib:ensure_dir(filename:join(Out, "x")),
                  _ = file:delete(filename:join(Out, "relup")),
                  Opts = [{path, Path} | Opts0] ++ [{outdir, Out} || OwnOutdir],
                  {R, Printed} = capture(fun() -> Mod:make_relup(Abs(Top), map_abs(Abs, Up), map_abs(Abs, Dn), Opts) end),
                  Relup = case file:read_file(filename:join(Out, "relup")) of
                              {ok, B} -> B;
                              _ when not OwnOutdir -> read_shared(Opts0);
                              _ -> none
                          end,
                  {R, Printed, Relup}
          end,
    {SR, SP, SF} = Run(systools, "out_systools"),
    {RR, RP, RF} = Run(relnif, "out_relnif"),
    Exit = documented_exit(SR, RR, SP, RP),
    Details = lists:append(
                [[{result, normalize(SR), RR} || normalize(SR) =/= RR, not Exit],
                 [{printed, SP, RP} || SP =/= RP, not Exit],
                 [{relup_bytes, SF, RF} || SF =/= RF],
                 texts(SR, RR)]),
    put(fastrel_relup_diff_outcome, outcome(SR)),
    case Details of
        [] -> ok;
        _ -> {mismatch, Details}
    end.

outcome({ok, _, _, []}) -> ok;
outcome({ok, _, _, Ws}) -> {warnings, lists:usort([element(1, W) || W <- Ws, is_tuple(W)])};
outcome(ok) -> ok_printed;
outcome(error) -> error_printed;
outcome({error, M, R}) when is_tuple(R) -> {error, M, element(1, R)};
outcome({error, M, R}) -> {error, M, R};
outcome({raised, C, R}) when is_tuple(R) -> {raised, C, element(1, R)};
outcome({raised, C, R}) -> {raised, C, R}.

map_abs(Abs, L) when is_list(L) -> [Abs(X) || X <- L];
map_abs(_, L) -> L.

read_shared(Opts) ->
    case lists:keyfind(outdir, 1, Opts) of
        {outdir, D} when is_list(D) -> read_shared_in(D);
        _ -> none
    end.

read_shared_in(D) ->
    R = case file:read_file(filename:join(D, "relup")) of
            {ok, B} -> B;
            _ -> none
        end,
    _ = file:delete(filename:join(D, "relup")),
    R.

%% The formatted texts of errors and warnings, systools' module against relnif.
%% systools reports a crash in string_p as `{'EXIT', {badarg, Stacktrace}}'; relnif
%% names the file and the value instead (a documented difference, as for make_script).
documented_exit({error, _, {'EXIT', {badarg, _}}}, {error, relnif, {'EXIT', {badarg, _}}}, _, _) -> true;
documented_exit(error, error, <<"{'EXIT',{badarg,", _/binary>>, <<"{'EXIT',{badarg,", _/binary>>) -> true;
documented_exit(_, _, _, _) -> false.

texts({error, _, {'EXIT', _}}, {error, relnif, {'EXIT', _}}) -> [];
texts({error, Mod, Reason}, {error, relnif, Reason2}) ->
    S = safe(fun() -> lists:flatten(Mod:format_error(Reason)) end),
    R = safe(fun() -> relnif:format_error(Reason2) end),
    [{format_error, S, R} || S =/= R];
texts({ok, _, _, Ws}, {ok, _, relnif, Ws2}) ->
    S = [safe(fun() -> lists:flatten(systools_relup:format_warning(W)) end) || W <- Ws],
    R = [safe(fun() -> relnif:format_warning(W) end) || W <- Ws2],
    [{format_warning, S, R} || S =/= R];
texts(_, _) -> [].

safe(F) ->
    try F() catch C:E -> {raised, C, E} end.

normalize({error, M, R}) when M =:= systools_relup; M =:= systools_rc; M =:= systools_make ->
    {error, relnif, R};
normalize({ok, Relup, systools_relup, Ws}) -> {ok, Relup, relnif, Ws};
normalize(Other) -> Other.

%% Runs `F' with this process's output captured: `{Result | {raised, Class, Reason}, Text}'.
capture(F) ->
    Old = group_leader(),
    Cap = spawn(fun() -> capture_loop([]) end),
    group_leader(Cap, self()),
    R = try F() catch C:E -> {raised, C, E} end,
    group_leader(Old, self()),
    Cap ! {get, self()},
    receive {text, T} -> {R, T} after 5000 -> {R, timeout} end.

capture_loop(Acc) ->
    receive
        {io_request, From, Ref, Req} ->
            {Reply, Acc1} = io_reply(Req, Acc),
            From ! {io_reply, Ref, Reply},
            capture_loop(Acc1);
        {get, P} ->
            P ! {text, unicode:characters_to_binary(lists:reverse(Acc))}
    end.

io_reply({put_chars, Enc, Chars}, Acc) ->
    {ok, [unicode:characters_to_list(Chars, Enc) | Acc]};
io_reply({put_chars, Enc, M, F, A}, Acc) ->
    io_reply({put_chars, Enc, apply(M, F, A)}, Acc);
io_reply({put_chars, Chars}, Acc) -> io_reply({put_chars, latin1, Chars}, Acc);
io_reply({put_chars, M, F, A}, Acc) -> io_reply({put_chars, latin1, M, F, A}, Acc);
io_reply({get_geometry, _}, Acc) -> {{error, enotsup}, Acc};
io_reply({requests, Rs}, Acc) ->
    lists:foldl(fun(R, {_, A}) -> io_reply(R, A) end, {ok, Acc}, Rs);
io_reply(getopts, Acc) -> {[{binary, false}, {encoding, unicode}], Acc};
io_reply(_, Acc) -> {{error, request}, Acc}.

%%% ================================================================ random cases

%% @doc `N' random cases from `Seed': `{Cases, Mismatches}' (each a map).
-spec run(pos_integer(), integer()) -> {[map()], [map()]}.
run(N, Seed) ->
    Results = [run_case(Seed, I) || I <- lists:seq(1, N)],
    {[C || {C, _} <- Results], [M || {_, M} <- Results, M =/= none]}.

%% @doc Builds and runs case `I' of `Seed'.
-spec run_case(integer(), pos_integer()) -> {map(), map() | none}.
run_case(Seed, I) ->
    rand:seed(exsss, {Seed, I, 1234}),
    Dir = filename:absname(filename:join(["_build", "relup_diff", integer_to_list(Seed) ++ "-" ++ integer_to_list(I)])),
    _ = file:del_dir_r(Dir),
    {Spec, Top, Up, Dn, Opts, Kind} = gen_case(),
    ok = write_fixture(Dir, Spec),
    Outcome = compare(Dir, Top, Up, Dn, Opts),
    Info = #{index => I, dir => Dir, kind => Kind, outcome => get(fastrel_relup_diff_outcome)},
    case Outcome of
        ok -> _ = file:del_dir_r(Dir), {Info, none};
        {mismatch, Details} ->
            {Info, Info#{seed => Seed, top => Top, up => Up, dn => Dn, options => Opts, details => Details}}
    end.

-spec summary_line([map()], [map()]) -> string().
summary_line(Cases, Mismatches) ->
    lists:flatten(io_lib:format("relup differential: ~w cases, ~w mismatches",
                                [length(Cases), length(Mismatches)])).

%% @doc How many cases ended how (systools' outcome), most frequent first.
-spec distribution([map()]) -> string().
distribution(Cases) ->
    Counts = lists:foldl(fun(#{outcome := O}, M) -> maps:update_with(O, fun(X) -> X + 1 end, 1, M) end,
                         #{}, Cases),
    lists:flatten([io_lib:format("  ~5w  ~tp~n", [N, O])
                   || {N, O} <- lists:reverse(lists:sort([{N, O} || {O, N} <- maps:to_list(Counts)]))]).

-spec format_mismatch(map()) -> string().
format_mismatch(M) ->
    lists:flatten(io_lib:format("~tp~n", [M])).

pick(L) -> lists:nth(rand:uniform(length(L)), L).
chance(P) -> rand:uniform() < P.

%% A release chain: apps a1..aN at versions, a top release and 1-3 bases.
gen_case() ->
    NApps = rand:uniform(5),
    Names = [list_to_atom("app" ++ integer_to_list(K)) || K <- lists:seq(1, NApps)],
    Mods = maps:from_list([{A, [list_to_atom(atom_to_list(A) ++ "_m" ++ integer_to_list(K))
                                || K <- lists:seq(1, 1 + rand:uniform(4))]} || A <- Names]),
    NBases = rand:uniform(3),
    BaseNames = ["base" ++ integer_to_list(K) || K <- lists:seq(1, NBases)],
    Erts = fun() -> pick(["13.0", "13.0", "13.1"]) end,
    %% Top apps: each present (most), at version "2.0".
    TopApps = [A || A <- Names, chance(0.85)],
    BaseSpecs = [{B, "1." ++ integer_to_list(K), Erts(),
                  [{A, pick(["1.0", "1.1", "2.0"])} || A <- Names, chance(0.8)]}
                 || {K, B} <- lists:zip(lists:seq(1, NBases), BaseNames)],
    Kind = pick([clean, clean, clean, injected]),
    put(relup_diff_names, Names),
    Sasl = case chance(0.05) of true -> []; false -> [?SASL] end,
    Mandatory = [?KERNEL, ?STDLIB],
    TopRel = {"top", "2", Erts(), Mandatory ++ Sasl ++ [{A, "2.0", pick([permanent, permanent, temporary, load, none])} || A <- TopApps]},
    BaseRels = [{B, V, E, Mandatory ++ [?SASL] ++ [{A, Vs} || {A, Vs} <- As]} || {B, V, E, As} <- BaseSpecs],
    %% Every version of every app that some release uses gets an .app; the top
    %% versions get appups covering (most of) the base versions.
    BaseVsns = lists:usort([{A, V} || {_, _, _, As} <- BaseSpecs, {A, V} <- As]),
    TopAppDefs = [{A, "2.0", maps:get(A, Mods), gen_appup(A, maps:get(A, Mods), Names, Mods, Kind)} || A <- TopApps],
    OldAppDefs = [{A, V, old_mods(maps:get(A, Mods))} || {A, V} <- BaseVsns, V =/= "2.0"],
    OldSame = [{A, "2.0", maps:get(A, Mods)} || {A, "2.0"} <- BaseVsns, not lists:member(A, TopApps)],
    %% Injected release-level problems: a broken base .rel, a missing .app version.
    BaseRels1 = case Kind =:= injected andalso chance(0.2) of
                    true -> [{raw, "base1", pick(["{release, {\"b\", \"1\"}.", "{release, {\"b\", 1}, {erts, \"13.0\"}, []}.\n", "garbage"])}
                             | tl(BaseRels)];
                    false -> BaseRels
                end,
    OldAppDefs1 = case Kind =:= injected andalso chance(0.2) andalso OldAppDefs =/= [] of
                      true -> tl(OldAppDefs);
                      false -> OldAppDefs
                  end,
    Spec = #{rels => [TopRel | BaseRels1], apps => TopAppDefs ++ OldAppDefs1 ++ OldSame},
    Descr = fun(B) -> case chance(0.3) of true -> {B, pick(["some text", [1050, 1075], <<"bin">>, {x, 1}])}; false -> B end end,
    Up = [Descr(B) || B <- BaseNames, chance(0.8)]
        ++ case Kind =:= injected andalso chance(0.1) of true -> [pick(["nosuch", 42, {"nosuch", d}])]; false -> [] end,
    Dn = [Descr(B) || B <- BaseNames, chance(0.6)],
    Opts = [O || {O, P} <- [{silent, 0.6}, {noexec, 0.2}, {restart_emulator, 0.2}, {warnings_as_errors, 0.1},
                              {no_warn_sasl, 0.2}, {{unknown, 1}, 0.1}], chance(P)]
        ++ case chance(0.1) of true -> [{outdir, "/nonexistent/dir"}]; false -> [] end
        ++ case Kind =:= injected andalso chance(0.1) of
               true -> [pick([{outdir, 1}, {path, "*"}, {silent, 1}, {noexec, 1}, {warnings_as_errors, 1}, {restart_emulator, 1}])];
               false -> []
           end,
    {Spec, "top", Up, Dn, Opts, Kind}.

old_mods(Mods) ->
    case chance(0.3) of
        true -> tl(Mods) ++ [];
        false -> Mods
    end.

%% An appup for the top version of `App': up and down entries for 1.0 and 1.1 (some
%% as regexes), each a random script.
gen_appup(App, Mods, Names, AllMods, Kind) ->
    case Kind =:= injected andalso chance(0.15) of
        true -> pick([{text, "{\"2.0\", [{\"1.0\", []}], [{\"1.0\", []}]"},  % parse error
                      {"2.0", oops},
                      {"2.0", [], []},  % no entries: no_relup
                      {"1.9", [{"1.0", []}, {"1.1", []}], [{"1.0", []}, {"1.1", []}]}]);
        false ->
            Entries = fun() ->
                              Vs = case chance(0.3) of
                                       true -> [{<<"1\\..*">>, script(App, Mods, Names, AllMods, Kind)}];
                                       false -> [{"1.0", script(App, Mods, Names, AllMods, Kind)},
                                                 {"1.1", script(App, Mods, Names, AllMods, Kind)}]
                                   end,
                              case chance(0.1) of
                                  true -> [{<<"1\\.0|1\\.0\\.1">>, []} | Vs];
                                  false -> Vs
                              end
                      end,
            {"2.0", Entries(), Entries()}
    end.

script(App, Mods, Names, AllMods, Kind) ->
    N = rand:uniform(4) - 1,
    Instrs = case Kind of
                 injected -> [instr(App, Mods, Names, AllMods) || _ <- lists:seq(1, N)];
                 clean -> lists:append([clean_instr(App, Mods) || _ <- lists:seq(1, N)])
             end,
    Unique = dedup_mods(Instrs, []),
    case Kind =:= injected andalso chance(0.3) of
        true -> Unique ++ [bad_instr(Mods)];
        false -> fix_deps(Unique)
    end.

%% Keeps only dependencies on modules the script has an instruction for.
fix_deps(Instrs) ->
    Present = [M || I <- Instrs, M <- [mod_of(I)], M =/= none],
    [fix_dep(I, Present) || I <- Instrs].

fix_dep(I, Present) ->
    case mod_of(I) of
        none -> I;
        _ ->
            Last = element(tuple_size(I), I),
            case is_list(Last) andalso lists:all(fun is_atom/1, Last) andalso tuple_size(I) > 2 of
                true -> setelement(tuple_size(I), I, [D || D <- Last, lists:member(D, Present)]);
                false -> I
            end
    end.

%% Instructions that translate without errors (given fixed dependencies).
clean_instr(App, Mods) ->
    M = pick(Mods),
    Deps = [D || D <- Mods, D =/= M, chance(0.4)],
    Extra = pick([[], {extra, 1}, "x"]),
    pick([[{update, M}], [{update, M, supervisor}], [{update, M, soft}], [{update, M, {advanced, Extra}}],
          [{update, M, Deps}], [{update, M, {advanced, Extra}, Deps}], [{update, M, soft, Deps}],
          [{update, M, {advanced, Extra}, soft_purge, brutal_purge, Deps}],
          [{update, M, 5000, {advanced, Extra}, brutal_purge, soft_purge, Deps}],
          [{update, M, static, infinity, {advanced, Extra}, brutal_purge, brutal_purge, Deps}],
          [{update, M, dynamic, default, soft, brutal_purge, brutal_purge, Deps}],
          [{load_module, M}], [{load_module, M, Deps}], [{load_module, M, soft_purge, soft_purge, Deps}],
          [{add_module, M}], [{add_module, M, Deps}], [{delete_module, M}], [{delete_module, M, Deps}],
          [{apply, {io, format, ["hi~n"]}}], [{restart_application, App}],
          [restart_new_emulator], [restart_emulator], [{sync_nodes, id, [node()]}],
          [{sync_nodes, id, {m, f, []}}],
          [{load_object_code, {App, "2.0", [M]}}, point_of_no_return, {load, {M, brutal_purge, brutal_purge}}],
          [{suspend, [M]}, {code_change, [{M, x}]}, {resume, [M]}],
          [{suspend, [{M, 100}]}, {code_change, up, [{M, x}]}, {resume, [M]}],
          [{stop, [M]}, {start, [M]}],
          [{remove, {M, brutal_purge, brutal_purge}}, {purge, [M]}],
          [{update, M, {advanced, Extra}}, {load_object_code, {App, "2.0", [M]}}],
          [{add_application, App}], [{remove_application, App}],
          [[{update, M}]]]).

%% One module instruction per module (systools rejects duplicates; tested separately).
dedup_mods([], _) -> [];
dedup_mods([I | Is], Seen) ->
    case mod_of(I) of
        none -> [I | dedup_mods(Is, Seen)];
        M -> case lists:member(M, Seen) of
                 true -> dedup_mods(Is, Seen);
                 false -> [I | dedup_mods(Is, [M | Seen])]
             end
    end.

mod_of({Tag, M}) when Tag =:= update; Tag =:= load_module; Tag =:= add_module; Tag =:= delete_module -> M;
mod_of(T) when is_tuple(T), tuple_size(T) > 2 ->
    case element(1, T) of
        Tag when Tag =:= update; Tag =:= load_module; Tag =:= add_module; Tag =:= delete_module -> element(2, T);
        _ -> none
    end;
mod_of(_) -> none.

instr(App, Mods, _Names, _AllMods) ->
    M = pick(Mods),
    Deps = [D || D <- Mods, D =/= M, chance(0.3)],
    Extra = pick([[], {extra, 1}, "x"]),
    pick([{update, M},
          {update, M, supervisor},
          {update, M, soft},
          {update, M, {advanced, Extra}},
          {update, M, Deps},
          {update, M, {advanced, Extra}, Deps},
          {update, M, soft, Deps},
          {update, M, {advanced, Extra}, soft_purge, brutal_purge, Deps},
          {update, M, 5000, {advanced, Extra}, brutal_purge, soft_purge, Deps},
          {update, M, static, infinity, {advanced, Extra}, brutal_purge, brutal_purge, Deps},
          {update, M, dynamic, default, soft, brutal_purge, brutal_purge, Deps},
          {load_module, M},
          {load_module, M, Deps},
          {load_module, M, soft_purge, soft_purge, Deps},
          {add_module, M},
          {add_module, M, Deps},
          {delete_module, M},
          {delete_module, M, Deps},
          {apply, {io, format, ["hi~n"]}},
          {restart_application, App},
          restart_new_emulator,
          restart_emulator,
          {sync_nodes, id, [node()]},
          {sync_nodes, id, {m, f, []}},
          point_of_no_return,
          {load_object_code, {App, "2.0", [M]}},
          {load, {M, brutal_purge, brutal_purge}},
          {remove, {M, brutal_purge, brutal_purge}},
          {purge, [M]},
          {suspend, [M]}, {resume, [M]},
          {code_change, [{M, x}]},
          {code_change, up, [{M, x}]},
          {stop, [M]}, {start, [M]}]).

bad_instr(Mods) ->
    M = hd(Mods),
    pick([{update, "m"}, {update, M, hard}, {update, M, weird, default, soft, brutal_purge, brutal_purge, []},
          {update, M, 0, soft, brutal_purge, brutal_purge, []},
          {load_module, M, nope, brutal_purge, []},
          {load_module, M, not_a_list},
          {add_application, "x"}, {add_application, M, sometimes},
          {apply, {M, "f", []}}, {apply, {M, f, x}},
          {sync_nodes, id, [1]},
          {load_object_code, {"lib", "1", []}}, {load_object_code, {lib, vsn, []}},
          {code_change, [x]}, {code_change, sideways, []},
          {suspend, [{M, -1}]},
          {update, M, [nonexistent_mod]},
          {remove_application, nonexistent_app},
          {add_application, nonexistent_app},
          mnesia_backup, "load", garbage,
          {suspend, [M]}, {resume, [M]}, {start, [M]}, {stop, [M]},
          {load, {M, brutal_purge, brutal_purge}}]).
