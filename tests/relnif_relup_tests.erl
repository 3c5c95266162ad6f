%% SPDX-License-Identifier: Apache-2.0
%% @doc Focused cases for `relnif:make_relup/3,4', each compared with
%% `systools:make_relup/3,4' in this VM: the same return term (module atom aside), the
%% same exception, the same printed output, the same formatted error and warning texts
%% and byte-identical `relup' files (see `fastrel_relup_diff:compare/5').
-module(relnif_relup_tests).

-include_lib("eunit/include/eunit.hrl").

-define(MANDATORY, [{kernel, "1.0"}, {stdlib, "1.0"}, {sasl, "3.0"}]).
-define(MODS, [a1, a2, a3]).

%%% ---------------------------------------------------------------- fixtures

dir(Name) ->
    D = filename:absname(filename:join(["_build", "relup_tests", Name])),
    _ = file:del_dir_r(D),
    D.

%% Top release 2 (erts TopErts) with app `a' 2.0 carrying `Appup', base release 1 with
%% `a' 1.0; `Extra' adds to the spec.
fixture(Name, Appup, Extra) ->
    D = dir(Name),
    Rels = maps:get(rels, Extra,
                    [{"top", "2", "13.0", ?MANDATORY ++ [{a, "2.0"}]},
                     {"base", "1", "13.0", ?MANDATORY ++ [{a, "1.0"}]}]),
    Apps = [{a, "2.0", ?MODS ++ [a4], Appup}, {a, "1.0", ?MODS}] ++ maps:get(apps, Extra, []),
    ok = fastrel_relup_diff:write_fixture(D, #{rels => Rels, apps => Apps}),
    D.

same(D, Up, Dn, Opts) ->
    ?assertEqual(ok, fastrel_relup_diff:compare(D, "top", Up, Dn, Opts)).

script_case(Name, Script) ->
    script_case(Name, Script, Script).

script_case(Name, UpScript, DnScript) ->
    {Name, fun() ->
                   D = fixture(Name, {"2.0", [{"1.0", UpScript}], [{"1.0", DnScript}]}, #{}),
                   same(D, ["base"], ["base"], [silent]),
                   same(D, ["base"], ["base"], [])
           end}.

relnif(D, Up, Dn, Opts) ->
    relnif:make_relup(filename:join(D, "top"), [filename:join(D, B) || B <- Up],
                      [filename:join(D, B) || B <- Dn],
                      [{path, [filename:join(D, "lib/*/ebin")]}, {outdir, D} | Opts]).

%%% ---------------------------------------------------------------- instructions

instruction_test_() ->
    Deps = [a2],
    Cases =
        [{"update", [{update, a1}]},
         {"update_supervisor", [{update, a1, supervisor}]},
         {"update_soft", [{update, a1, soft}]},
         {"update_advanced", [{update, a1, {advanced, {extra, [1, 2]}}}]},
         {"update_deps", [{update, a1, Deps}, {update, a2}]},
         {"update_change_deps", [{update, a1, {advanced, x}, Deps}, {update, a2, soft}]},
         {"update_purge", [{update, a1, {advanced, []}, soft_purge, brutal_purge, []}]},
         {"update_timeout", [{update, a1, 3000, soft, brutal_purge, soft_purge, []}]},
         {"update_full_static", [{update, a1, static, infinity, {advanced, []}, brutal_purge, brutal_purge, []}]},
         {"update_full_dynamic", [{update, a1, dynamic, default, {advanced, y}, brutal_purge, brutal_purge, []}]},
         {"load_module", [{load_module, a1}]},
         {"load_module_deps", [{load_module, a1, [a2]}, {load_module, a2}]},
         {"load_module_full", [{load_module, a1, soft_purge, soft_purge, []}]},
         {"add_module", [{add_module, a4}]},
         {"add_module_deps", [{add_module, a4, [a1]}, {update, a1}]},
         {"delete_module", [{delete_module, a3}]},
         {"delete_module_deps", [{delete_module, a3, [a1]}, {load_module, a1}]},
         {"apply", [{apply, {io, format, ["x~n"]}}]},
         {"restart_application", [{restart_application, a}]},
         {"restart_new_emulator", [restart_new_emulator]},
         {"restart_emulator", [restart_emulator]},
         {"sync_nodes_list", [{sync_nodes, id, [node()]}]},
         {"sync_nodes_mfa", [{sync_nodes, id, {m, f, [1]}}]},
         {"low_level", [{load_object_code, {a, "2.0", [a1, a2]}}, point_of_no_return,
                        {suspend, [{a1, 100}, a2]}, {load, {a1, brutal_purge, brutal_purge}},
                        {load, {a2, soft_purge, brutal_purge}}, {code_change, [{a1, x}]},
                        {code_change, up, [{a2, y}]}, {resume, [a1, a2]},
                        {stop, [a3]}, {remove, {a3, brutal_purge, brutal_purge}}, {purge, [a3]},
                        {start, [a3]}, restart, reboot]},
         {"apply_before_pnr", [{apply, {m, f, []}}, point_of_no_return, {update, a1}]},
         {"merge_load_object_code", [{load_object_code, {a, "2.0", [a3, a1]}}, {update, a1}, {update, a2},
                                     {load, {a3, brutal_purge, brutal_purge}}]},
         {"cycle", [{update, a1, [a2]}, {update, a2, [a3]}, {update, a3, [a1]}]},
         {"diamond", [{update, a1, [a2, a3]}, {update, a2, [a4]}, {update, a3, [a4]}, {add_module, a4}]},
         {"spliced_list", [[{update, a1}], {update, a2}]},
         {"rich_extra", [{update, a1, {advanced, #{a => 1, "k" => [1.5, -2, 1.0e-10], 'ĉ' => <<"ĉ"/utf8>>,
                                                   b => fun lists:map/2, 3 => {[], <<1,2,3>>, <<7:3>>}}}},
                         {update, a2, {advanced, [lists:seq(1, 40), "a long string that does not fit on one line at all, really",
                                                  'quoted atom', 'ĉatom', [$a | b], 12345678901234567890123]}}]},
         {"empty", []}],
    [script_case(N, S) || {N, S} <- Cases] ++
        [script_case("up_down_differ", [{update, a1, {advanced, up}}], [{update, a2, {advanced, down}}])].

%%% ---------------------------------------------------------------- systools_rc errors

rc_error_test_() ->
    Cases =
        [{"bad_op_before_pnr", [{update, a1}, point_of_no_return]},
         {"too_many_pnr", [point_of_no_return, point_of_no_return]},
         {"no_object_code", [{load, {a1, brutal_purge, brutal_purge}}]},
         {"suspended_not_resumed", [{suspend, [a1]}]},
         {"resumed_not_suspended", [{resume, [a1]}]},
         {"start_not_stop", [{start, [a1]}]},
         {"stop_not_start", [{stop, [a1]}]},
         {"no_such_application", [{add_application, nosuch}]},
         {"removed_application_present", [{remove_application, a}]},
         {"remove_unknown_application", [{remove_application, nosuch}]},
         {"restart_unknown_application", [{restart_application, nosuch}]},
         {"conflicting_versions", [{load_object_code, {a, "2.0", [a1]}}, {load_object_code, {a, "9", [a2]}}]},
         {"no_such_module", [{update, nosuch_mod}]},
         {"not_yet_implemented", [mnesia_backup]},
         {"bad_instruction", [garbage]},
         {"bad_instruction_string", ["load"]},
         {"bad_module", [{update, "a1"}]},
         {"bad_code_change", [{code_change, [x]}]},
         {"bad_change", [{update, a1, hard, brutal_purge, brutal_purge, []}]},
         {"bad_mod_type", [{update, a1, weird, default, soft, brutal_purge, brutal_purge, []}]},
         {"bad_purge_method", [{load_module, a1, nope, brutal_purge, []}]},
         {"bad_list", [{purge, a1}]},
         {"bad_args_list", [{apply, {m, f, x}}]},
         {"bad_node", [{sync_nodes, id, [1]}]},
         {"bad_application", [{restart_application, "a"}]},
         {"bad_start_type", [{add_application, a, sometimes}]},
         {"bad_func", [{apply, {m, "f", []}}]},
         {"bad_lib", [{load_object_code, {"a", "2.0", []}}]},
         {"bad_lib_vsn", [{load_object_code, {a, vsn, []}}]},
         {"bad_timeout", [{suspend, [{a1, -1}]}]},
         {"bad_mode", [{code_change, sideways, []}]},
         {"undef_module", [{update, a1, [a2]}]},
         {"muldef_module", [{update, a1}, {load_module, a1}]},
         {"code_change_without_suspend", [{code_change, up, [{a1, x}]}]}],
    [script_case("rc_" ++ N, S) || {N, S} <- Cases].

%%% ---------------------------------------------------------------- systools_relup

add_remove_application_test() ->
    D = fixture("add_remove", {"2.0", [{"1.0", []}], [{"1.0", []}]},
                #{rels => [{"top", "2", "13.0", ?MANDATORY ++ [{a, "2.0"}, {b, "1.0", load}, {c, "1.0", none}]},
                           {"base", "1", "13.0", ?MANDATORY ++ [{a, "1.0"}, {old, "1.0"}]}],
                  apps => [{b, "1.0", [b1, b2]}, {c, "1.0", [c1]}, {old, "1.0", [o1]}]}),
    same(D, ["base"], ["base"], [silent]),
    same(D, ["base"], ["base"], []),
    {ok, {"2", [{"1", [], Up}], [{"1", [], _}]}, relnif, []} = relnif(D, ["base"], ["base"], [silent]),
    ?assert(lists:member({apply, {application, load, [b]}}, Up)),
    ?assert(lists:member({apply, {application, unload, [old]}}, Up)).

erts_change_test() ->
    D = fixture("erts", {"2.0", [{"1.0", [{update, a1}]}], [{"1.0", [{update, a1}]}]},
                #{rels => [{"top", "2", "13.1", ?MANDATORY ++ [{a, "2.0"}]},
                           {"base", "1", "13.0", ?MANDATORY ++ [{a, "1.0"}]}]}),
    same(D, ["base"], ["base"], [silent]),
    same(D, ["base"], ["base"], []),
    same(D, ["base"], ["base"], [silent, restart_emulator]),
    {ok, {_, [{_, _, [restart_new_emulator | _]}], [{_, _, Dn}]}, relnif, Ws} = relnif(D, ["base"], ["base"], [silent]),
    ?assertEqual(restart_emulator, lists:last(Dn)),
    ?assertEqual([{erts_vsn_changed, {{"top", "13.1"}, {"top", "13.0"}}},
                  {erts_vsn_changed, {{"top", "13.1"}, {"top", "13.0"}}}],
                 [{T, {{element(1, R1), element(2, R1)}, {"top", element(2, R2)}}} || {T, {R1, R2}} <- Ws]).

pre_r15_sasl_test() ->
    %% sasl "10.0" compares below "2.2" as a string: systools' quirk.
    [begin
         D = fixture("pre_r15_" ++ V, {"2.0", [{"1.0", [{update, a1}]}], [{"1.0", []}]},
                     #{rels => [{"top", "2", "13.1", ?MANDATORY ++ [{a, "2.0"}]},
                                {"base", "1", "13.0", [{kernel, "1.0"}, {stdlib, "1.0"}, {sasl, V}, {a, "1.0"}]}],
                       apps => [{sasl, V, []}]}),
         same(D, ["base"], ["base"], [silent, restart_emulator]),
         same(D, ["base"], ["base"], [])
     end || V <- ["10.0", "2.1", "2.2"]].

several_bases_test() ->
    D = fixture("several", {"2.0", [{"1.0", [{update, a1}]}, {"1.1", [{load_module, a2}]}],
                            [{"1.0", [{update, a1}]}, {"1.1", []}]},
                #{rels => [{"top", "2", "13.0", ?MANDATORY ++ [{a, "2.0"}]},
                           {"base", "1", "13.0", ?MANDATORY ++ [{a, "1.0"}]},
                           {"base11", "1.1", "13.1", ?MANDATORY ++ [{a, "1.1"}]},
                           {"same", "1.2", "13.0", ?MANDATORY ++ [{a, "2.0"}]}],
                  apps => [{a, "1.1", ?MODS}]}),
    same(D, ["base", {"base11", "descr"}, "same"], [{"same", [1050, 1075]}, "base11", "base"], [silent]),
    same(D, ["base", {"base11", "descr"}, "same"], ["base"], []).

regex_versions_test() ->
    Base = fun(Name, Entries) ->
                   fixture(Name, {"2.0", Entries, Entries},
                           #{rels => [{"top", "2", "13.0", ?MANDATORY ++ [{a, "2.0"}]},
                                      {"base", "1", "13.0", ?MANDATORY ++ [{a, "1.0.1"}]}],
                             apps => [{a, "1.0.1", ?MODS}]})
           end,
    %% Taken only when the first match is the whole version.
    D1 = Base("regex_first_match", [{<<"1\\.0|1\\.0\\.1">>, [{update, a1}]}, {<<"1\\..*">>, [{update, a2}]}]),
    same(D1, ["base"], ["base"], [silent]),
    {ok, {_, [{_, _, Up}], _}, relnif, []} = relnif(D1, ["base"], [], [silent]),
    ?assert(lists:member({load, {a2, brutal_purge, brutal_purge}}, Up)),
    D2 = Base("regex_invalid", [{<<"(">>, []}]),
    same(D2, ["base"], ["base"], [silent]),
    ?assertError(badarg, relnif(D2, ["base"], [], [silent])),
    D3 = Base("regex_none", [{<<"2\\..*">>, []}, {"1.0", []}]),
    same(D3, ["base"], ["base"], [silent]),
    same(D3, ["base"], ["base"], []).

missing_sasl_test() ->
    NoSasl = [{kernel, "1.0"}, {stdlib, "1.0"}],
    D1 = fixture("missing_sasl_top", {"2.0", [], []},
                 #{rels => [{"top", "2", "13.0", NoSasl ++ [{a, "2.0"}]},
                            {"base", "1", "13.0", ?MANDATORY ++ [{a, "1.0"}]}]}),
    same(D1, ["base"], ["base"], [silent]),
    same(D1, ["base"], ["base"], []),
    same(D1, ["base"], ["base"], [silent, no_warn_sasl]),
    D2 = fixture("missing_sasl_base", {"2.0", [], []},
                 #{rels => [{"top", "2", "13.0", ?MANDATORY ++ [{a, "2.0"}]},
                            {"base", "1", "13.0", NoSasl ++ [{a, "1.0"}]}]}),
    same(D2, ["base"], ["base"], [silent]),
    same(D2, [], ["base"], []),
    ?assertMatch({error, relnif, {missing_sasl, {release, "base", "1", _, _, _}}},
                 relnif(D2, ["base"], [], [silent])).

no_relup_test() ->
    D = fixture("no_relup", {"2.0", [{"0.9", []}], [{"0.9", []}]}, #{}),
    same(D, ["base"], ["base"], [silent]),
    same(D, ["base"], [], []),
    ?assertMatch({error, relnif, {no_relup, _, {application, a, _, "2.0", _, _, _, _, _, _, _, _, _, _, _, _, _}, "1.0"}},
                 relnif(D, ["base"], [], [silent])).

bad_vsn_test() ->
    D = fixture("bad_vsn", {"1.9", [{"1.0", []}], [{"1.0", []}]}, #{}),
    same(D, ["base"], ["base"], [silent]),
    same(D, ["base"], ["base"], []),
    same(D, ["base"], ["base"], [warnings_as_errors]),
    same(D, ["base"], ["base"], [warnings_as_errors, silent]),
    ?assertMatch({ok, _, relnif, [{bad_vsn, {"1.9", "2.0"}}, {bad_vsn, {"1.9", "2.0"}}]},
                 relnif(D, ["base"], ["base"], [silent])).

warnings_as_errors_test() ->
    D = fixture("wae", {"2.0", [{"1.0", []}], [{"1.0", []}]},
                #{rels => [{"top", "2", "13.1", ?MANDATORY ++ [{a, "2.0"}]},
                           {"base", "1", "13.0", ?MANDATORY ++ [{a, "1.0"}]}]}),
    same(D, ["base"], ["base"], [warnings_as_errors]),
    same(D, ["base"], ["base"], [warnings_as_errors, silent]),
    same(D, ["base"], ["base"], [warnings_as_errors, noexec]),
    ?assertMatch({error, relnif, {warnings_treated_as_errors, [_, _]}},
                 relnif(D, ["base"], ["base"], [warnings_as_errors, silent])).

noexec_test() ->
    D = fixture("noexec", {"2.0", [{"1.0", [{update, a1}]}], [{"1.0", []}]}, #{}),
    same(D, ["base"], ["base"], [noexec]),
    same(D, ["nosuch"], ["base"], [noexec]),
    ?assertMatch({ok, _, relnif, []}, relnif(D, ["base"], ["base"], [noexec])),
    ?assertEqual({error, enoent}, file:read_file(filename:join(D, "relup"))).

outdir_test() ->
    D = fixture("outdir", {"2.0", [{"1.0", [{update, a1}]}], [{"1.0", []}]}, #{}),
    same(D, ["base"], ["base"], [{outdir, filename:join(D, "nonexistent")}]),
    same(D, ["base"], ["base"], [silent, {outdir, filename:join(D, "nonexistent")}]),
    ?assertError({badarg, [{outdir, 1}]}, relnif:make_relup("x", [], [], [{outdir, 1}])),
    same(D, ["base"], ["base"], [silent, {outdir, 1}]),
    ?assertError({badarg, [{outdir, 1}]}, systools:make_relup("x", [], [], [{outdir, 1}])),
    ok = relnif:make_relup(filename:join(D, "top"), [filename:join(D, "base")], [],
                           [{path, [filename:join(D, "lib/*/ebin")]}, {outdir, D}]),
    {ok, [{"2", [{"1", [], _}], []}]} = file:consult(filename:join(D, "relup")).

options_test() ->
    D = fixture("options", {"2.0", [{"1.0", [{update, a1}]}], [{"1.0", []}]}, #{}),
    same(D, ["base"], ["base"], [{silent, 1}]),
    same(D, ["base"], ["base"], [silent, {restart_emulator, 1}]),
    same(D, ["base"], ["base"], [silent, {unknown, option}, bogus]),
    same(D, ["base"], ["base"], [silent, {path, "*"}]),
    same(D, ["base"], ["base"], [silent, {noexec, true}, {silent, true}]),
    same(D, "notalist", ["base"], [silent]),
    same(D, ["base", 42], ["base"], [silent]),
    %% A bare string where a list of release names belongs: systools crashes on its first
    %% character (function_clause), after the errors it reports first.
    same(D, ["base"], "base", [silent]),
    same(D, "base", "base", []),
    same(D, [{"base", "d"}, "nosuch", 42], ["base"], [silent]),
    ?assertEqual(ok, fastrel_relup_diff:compare(D, "nosuch_top", "base", "base", [silent])).

appup_problems_test() ->
    D1 = fixture("appup_parse", {text, "{\"2.0\", [{\"1.0\", []}], [{\"1.0\", []}]"}, #{}),
    same(D1, ["base"], ["base"], [silent]),
    same(D1, ["base"], ["base"], []),
    D2 = fixture("appup_missing", none, #{}),
    same(D2, ["base"], ["base"], [silent]),
    same(D2, ["base"], ["base"], []),
    D3 = fixture("appup_shape", {"2.0", []}, #{}),
    same(D3, ["base"], ["base"], [silent]),
    same(D3, ["base"], ["base"], []),
    D4 = fixture("appup_not_list", {"2.0", oops, oops}, #{}),
    same(D4, ["base"], ["base"], [silent]),
    D5 = fixture("appup_script_not_list", {"2.0", [{"1.0", oops}], [{"1.0", oops}]}, #{}),
    same(D5, ["base"], ["base"], [silent]),
    D6 = fixture("appup_scan_error", {text, "{\"2.0\", [{\"1.0\", []}], [{\"1.0\", []}]} 'unterminated"}, #{}),
    same(D6, ["base"], ["base"], [silent]).

release_errors_test() ->
    D = fixture("release_errors", {"2.0", [{"1.0", []}], [{"1.0", []}]}, #{}),
    same(D, ["nosuch"], ["base"], [silent]),
    same(D, ["nosuch"], ["base"], []),
    ?assertEqual(ok, fastrel_relup_diff:compare(D, "nosuch_top", ["base"], [], [silent])).

unicode_description_test() ->
    D = fixture("unicode", {"2.0", [{"1.0", [{apply, {io, format, ["ĉ~n"]}}]}], [{"1.0", []}]}, #{}),
    same(D, [{"base", "描述"}], [{"base", [1050, 1075]}], [silent]),
    same(D, [{"base", <<"bin"/utf8>>}], [{"base", 'ĉatom'}], []).

%% Many applications, each with a regex version and an open dependency order: the
%% NIF's questions to the VM are answered in a few rounds, not one per application.
many_questions_test() ->
    Names = [list_to_atom("q" ++ integer_to_list(I)) || I <- lists:seq(1, 20)],
    Mods = fun(A) -> [list_to_atom(atom_to_list(A) ++ [$_, C]) || C <- "abcd"] end,
    Script = fun(A) -> [W, X, Y, Z] = Mods(A),
                       [{update, W, [X, Y]}, {update, X, [Z]}, {update, Y, [Z]}, {load_module, Z}]
             end,
    D = dir("many_questions"),
    ok = fastrel_relup_diff:write_fixture(
           D, #{rels => [{"top", "2", "13.0", ?MANDATORY ++ [{A, "2.0"} || A <- Names]},
                         {"base", "1", "13.0", ?MANDATORY ++ [{A, "1.0"} || A <- Names]}],
                apps => [{A, "2.0", Mods(A), {"2.0", [{<<"1\\..*">>, Script(A)}], [{<<"1\\..*">>, Script(A)}]}}
                         || A <- Names] ++ [{A, "1.0", Mods(A)} || A <- Names]}),
    same(D, ["base"], ["base"], [silent]),
    same(D, ["base"], ["base"], []).

%% Every systools_rc and systools_relup text, including the ones sasl 4.2 can no longer
%% produce (mnesia_backup, no_appl_vsn), against relnif's.
format_texts_test_() ->
    Rel = {release, "r", "1", "13.0", [{kernel, "1.0", permanent}], []},
    App = {application, a, permanent, "2.0", "", "", [a1], [], [], [], [], [], infinity, infinity, [], undefined, "/x"},
    Rc = [{bad_op_before_point_of_no_return, {update, m}}, {no_object_code, m},
          {suspended_not_resumed, [m, {n, 1}]}, {resumed_not_suspended, [m]},
          {code_change_not_suspended, [m]}, {start_not_stop, [m]}, {stop_not_start, [m]},
          {no_such_application, a}, {removed_application_present, a}, dup_mnesia_backup,
          bad_mnesia_backup, {conflicting_versions, a, "1", "ĉ2"}, {no_appl_vsn, a},
          {no_such_module, m}, too_many_point_of_no_return, {bad_instruction, "ĉx"},
          {bad_module, "m"}, {bad_code_change, x}, {bad_change, hard}, {bad_mod_type, t},
          {bad_purge_method, p}, {bad_list, l}, {bad_args_list, x}, {bad_node, 1},
          {bad_application, "a"}, {bad_func, "f"}, {bad_lib, "l"}, {bad_lib_vsn, v},
          {bad_timeout, -1}, {undef_module, m}, {muldef_module, m},
          {not_yet_implemented, mnesia_backup}, {bad_start_type, x}, {bad_mode, x},
          {something, 'else'}],
    Relup = [{file_problem, {"f.appup", {error, {open, "f.appup", enoent}}}},
             {file_problem, {"f.appup", {error, {parse, "f.appup", {1, erl_parse, "x"}}}}},
             {file_problem, {"f.appup", {error, {read, "f.appup"}}}},
             {file_problem, {"relup", {open, eacces}}},
             {no_relup, "f.appup", App, "1.0"}, {missing_sasl, Rel},
             {warnings_treated_as_errors, [{erts_vsn_changed, {{"r", "1"}, {"r", "2"}}},
                                           pre_R15_emulator_upgrade, {bad_vsn, {"1", "2"}}]}],
    Warnings = [{erts_vsn_changed, {{"r", "13.0"}, {"r", "13.1"}}}, pre_R15_emulator_upgrade,
                {bad_vsn, {<<"x">>, "2.0"}}],
    [{lists:flatten(io_lib:format("~0p", [E])),
      ?_assertEqual(lists:flatten(systools_rc:format_error(E)), relnif:format_error(E))} || E <- Rc] ++
    [{lists:flatten(io_lib:format("~0p", [E])),
      ?_assertEqual(lists:flatten(systools_relup:format_error(E)), relnif:format_error(E))} || E <- Relup] ++
    [{lists:flatten(io_lib:format("~0p", [W])),
      ?_assertEqual(lists:flatten(systools_relup:format_warning(W)), relnif:format_warning(W))} || W <- Warnings].

%% make_relup/3: the releases from the cwd, the applications from the code path, the
%% relup into the cwd.
make_relup_3_test() ->
    D = fixture("arity3", {"2.0", [{"1.0", [{update, a1}]}], [{"1.0", [{update, a1}]}]}, #{}),
    Ebins = filelib:wildcard(filename:join(D, "lib/*/ebin")),
    {ok, Cwd} = file:get_cwd(),
    ok = code:add_pathsa(Ebins),
    try
        ok = file:set_cwd(D),
        Run = fun(Mod) ->
                      _ = file:delete("relup"),
                      R = Mod:make_relup("top", ["base"], ["base"]),
                      {R, file:read_file("relup")}
              end,
        {ok, {ok, Sys}} = Run(systools),
        {ok, {ok, Ours}} = Run(relnif),
        ?assertEqual(Sys, Ours)
    after
        ok = file:set_cwd(Cwd),
        [code:del_path(E) || E <- Ebins]
    end.

%% Descriptions are any term: pids, references, funs, ports, maps, big numbers, and
%% nesting deeper than the NIF's codec reads (relnif keeps them on its side).
odd_descriptions_test() ->
    D = fixture("odd_descriptions", {"2.0", [{"1.0", [{update, a1}]}], [{"1.0", []}]}, #{}),
    Deep = lists:foldl(fun(_, Acc) -> [Acc] end, x, lists:seq(1, 5000)),
    [same(D, [{"base", Descr}], [{"base", Descr}], Opts)
     || Descr <- [self(), make_ref(), fun(X) -> X end, hd(erlang:ports()), #{b => 1, a => [2]},
                  1 bsl 200, Deep, {[], <<>>, 'ĉ'}],
        Opts <- [[], [silent]]].
