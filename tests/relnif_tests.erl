%% SPDX-License-Identifier: Apache-2.0
%% EUnit tests of the relnif API against the real systools, in the same VM.
-module(relnif_tests).

-include_lib("eunit/include/eunit.hrl").

%%% ---------------------------------------------------------------- fixtures

%% A scratch directory holding a small release: kernel/stdlib/sasl of this OTP plus `myapp'.
with_release(Fun) ->
    {ok, Cwd} = file:get_cwd(),
    Dir = filename:join([Cwd, "_build", "relnif_tests", os:getpid() ++ "-" ++ integer_to_list(erlang:unique_integer([positive]))]),
    Ebin = filename:join(Dir, "lib/myapp-1.0/ebin"),
    ok = filelib:ensure_path(Ebin),
    App = {application, myapp,
           [{description, "My test app"}, {vsn, "1.0"}, {modules, [myapp_sup, myapp_app]},
            {registered, [myapp_sup]}, {applications, [kernel, stdlib]},
            {mod, {myapp_app, []}}, {env, [{key1, 42}, {key2, "str"}, {'é', <<"é"/utf8>>}]}]},
    ok = file:write_file(filename:join(Ebin, "myapp.app"), u("~tp.~n", [App])),
    write_rel(Dir, "myrel", [sasl]),
    ok = file:set_cwd(Dir),
    try Fun(Dir)
    after
        ok = file:set_cwd(Cwd),
        _ = file:del_dir_r(Dir)
    end.

write_rel(Dir, Name, Extra) ->
    Vsn = fun(A) -> _ = application:load(A), {ok, V} = application:get_key(A, vsn), V end,
    Apps = [{kernel, Vsn(kernel)}, {stdlib, Vsn(stdlib)}] ++ [{A, Vsn(A)} || A <- Extra] ++ [{myapp, "1.0"}],
    Rel = {release, {Name, "1.0.0"}, {erts, erlang:system_info(version)}, Apps},
    ok = file:write_file(filename:join(Dir, Name ++ ".rel"), u("~tp.~n", [Rel])).

u(Fmt, Args) -> unicode:characters_to_binary(io_lib:format(Fmt, Args)).

read(F) ->
    {ok, B} = file:read_file(F),
    B.

both(Opts) ->
    ok = filelib:ensure_path("sys"),
    ok = filelib:ensure_path("rn"),
    S = systools:make_script("myrel", [silent, {outdir, "sys"} | Opts]),
    R = relnif:make_script("myrel", [silent, {outdir, "rn"} | Opts]),
    {S, R}.

%%% ---------------------------------------------------------------- tests

loads_on_dirty_io_test() ->
    ?assertEqual(3, relnif:scheduler_probe()).

same_boot_and_script_as_systools_test_() ->
    [{lists:flatten(io_lib:format("~p", [Opts])),
      fun() ->
              with_release(fun(_) ->
                  {S, R} = both([{path, ["lib/*/ebin"]} | Opts]),
                  ?assertEqual({ok, systools_make, []}, S),
                  ?assertEqual({ok, relnif, []}, R),
                  Base = proplists:get_value(script_name, Opts, "myrel"),
                  [?assertEqual(read("sys/" ++ Base ++ Ext), read("rn/" ++ Base ++ Ext))
                   || Ext <- [".boot", ".script"]]
              end)
      end}
     || Opts <- [[], [local], [no_dot_erlang], [otp_build], [{script_name, "start"}]]].

missing_sasl_warning_test() ->
    with_release(fun(Dir) ->
        write_rel(Dir, "myrel", []),
        {S, R} = both([{path, ["lib/*/ebin"]}]),
        ?assertEqual({ok, systools_make, [{warning, missing_sasl}]}, S),
        ?assertEqual({ok, relnif, [{warning, missing_sasl}]}, R),
        ?assertEqual(lists:flatten(systools_make:format_warning([{warning, missing_sasl}])),
                     relnif:format_warning([{warning, missing_sasl}])),
        ok = file:delete("rn/myrel.boot"),
        {S2, R2} = both([{path, ["lib/*/ebin"]}, warnings_as_errors]),
        ?assertEqual({error, systools_make, {warnings_treated_as_errors, [missing_sasl]}}, S2),
        ?assertEqual({error, relnif, {warnings_treated_as_errors, [missing_sasl]}}, R2),
        ?assertNot(filelib:is_file("rn/myrel.boot"))
    end).

bad_options_raise_badarg_like_systools_test() ->
    Bad = [foo, {path, [1]}, {variables, bad}, {exref, [1]}, {outdir, x}],
    ?assertError({badarg, Bad}, relnif:make_script("x", Bad)),
    ?assertError({badarg, Bad}, systools:make_script("x", Bad)),
    ?assertError({badarg, 42}, relnif:make_script(42)).

syntax_error_names_file_and_line_test() ->
    with_release(fun(Dir) ->
        ok = file:write_file(filename:join(Dir, "broken.rel"), "%% two lines\n{release, {\"b\", \"1\"} {erts, \"1\"}, []}.\n"),
        S = systools:make_script("broken", [silent]),
        R = relnif:make_script("broken", [silent]),
        ?assertMatch({error, relnif, {parse, "broken.rel", {2, erl_parse, _}}}, R),
        {error, systools_make, SR} = S,
        {error, relnif, RR} = R,
        ?assertEqual(SR, RR),
        ?assertEqual(lists:flatten(systools_make:format_error(SR)), relnif:format_error(RR))
    end).

missing_file_errors_match_test() ->
    with_release(fun(_) ->
        ?assertEqual({error, relnif, {not_found, "nope.rel"}}, relnif:make_script("nope", [silent])),
        ?assertEqual("File not found: \"nope.rel\"\n", relnif:format_error({not_found, "nope.rel"}))
    end).

missing_app_error_matches_test() ->
    with_release(fun(_) ->
        {S, R} = both([]),    % no {path, ...}: myapp is not found
        {error, systools_make, SR} = S,
        ?assertEqual({error, relnif, SR}, R),
        ?assertEqual(lists:flatten(systools_make:format_error(SR)), relnif:format_error(SR))
    end).

bad_outdir_leaves_nothing_test() ->
    with_release(fun(_) ->
        R = relnif:make_script("myrel", [silent, {path, ["lib/*/ebin"]}, {outdir, "no/such/dir"}]),
        ?assertMatch({error, relnif, {open, "no/such/dir/myrel.script", enoent}}, R),
        ?assertEqual([], filelib:wildcard("no/**"))
    end).

failed_write_keeps_old_boot_test() ->
    %% A directory where the .boot should go makes the rename fail: no temp file may be
    %% left behind and the .script written just before stays a complete file.
    with_release(fun(_) ->
        ok = file:make_dir("myrel.boot"),
        R = relnif:make_script("myrel", [silent, {path, ["lib/*/ebin"]}]),
        ?assertMatch({error, relnif, {open, "myrel.boot", _}}, R),
        ?assertEqual([], [F || F <- filelib:wildcard(".*"), string:find(F, ".tmp" ++ os:getpid()) =/= nomatch]),
        ?assertMatch({ok, [{script, _, _}]}, file:consult("myrel.script"))
    end).

circular_includes_return_an_error_test() ->
    with_release(fun(Dir) ->
        [begin
             E = filename:join(Dir, "lib/" ++ N ++ "-1.0/ebin"),
             ok = filelib:ensure_path(E),
             A = {application, list_to_atom(N), [{description, N}, {vsn, "1.0"}, {modules, []},
                                                {registered, []}, {applications, [kernel, stdlib]},
                                                {included_applications, [list_to_atom(I)]}]},
             ok = file:write_file(filename:join(E, N ++ ".app"), u("~tp.~n", [A]))
         end || {N, I} <- [{"ca", "cb"}, {"cb", "ca"}]],
        Vsn = fun(A) -> {ok, V} = application:get_key(A, vsn), V end,
        Rel = {release, {"cyc", "1"}, {erts, "1"},
               [{kernel, Vsn(kernel)}, {stdlib, Vsn(stdlib)}, {ca, "1.0"}, {cb, "1.0"}]},
        ok = file:write_file("cyc.rel", u("~tp.~n", [Rel])),
        R = relnif:make_script("cyc", [silent, {path, ["lib/*/ebin"]}]),
        ?assertMatch({error, relnif, {circular_included_applications, _}}, R),
        {error, relnif, Reason} = R,
        ?assertMatch("Circular included_applications" ++ _, relnif:format_error(Reason))
    end).

prints_like_systools_when_not_silent_test() ->
    with_release(fun(Dir) ->
        write_rel(Dir, "myrel", []),
        Capture = fun(F) ->
                          {ok, Dev} = file:open("out.txt", [write]),
                          Old = group_leader(),
                          group_leader(Dev, self()),
                          try F() after group_leader(Old, self()), file:close(Dev) end,
                          read("out.txt")
                  end,
        ?assertEqual(Capture(fun() -> ok = systools:make_script("myrel", [{path, ["lib/*/ebin"]}]) end),
                     Capture(fun() -> ok = relnif:make_script("myrel", [{path, ["lib/*/ebin"]}]) end)),
        ?assertEqual(Capture(fun() -> error = systools:make_script("nope", []) end),
                     Capture(fun() -> error = relnif:make_script("nope", []) end))
    end).

script2boot_and_back_test() ->
    with_release(fun(_) ->
        {ok, _, _} = systools:make_script("myrel", [silent, {path, ["lib/*/ebin"]}]),
        Boot = read("myrel.boot"),
        ok = file:delete("myrel.boot"),
        ?assertEqual(ok, relnif:script2boot("myrel")),
        ?assertEqual(Boot, read("myrel.boot")),
        {ok, Text} = relnif:boot2script("myrel.boot"),
        ?assertEqual(read("myrel.script"), Text),
        ?assertMatch({error, relnif, {open, "nope.script", enoent}}, relnif:script2boot_silent("nope"))
    end).

consult_reads_like_file_consult_test() ->
    with_release(fun(_) ->
        Terms = [{a, "str", <<"bin">>, 1.5, -12, 16#FFFFFFFFFFFFFFFFFF, #{k => [1 | 2]}}, 'quoted atom', "αβ"],
        ok = file:write_file("t.config", [u("~tp.~n", [T]) || T <- Terms]),
        ?assertEqual({ok, Terms}, relnif:consult("t.config")),
        ?assertEqual(file:consult("t.config"), relnif:consult("t.config"))
    end).

edited_app_file_is_read_again_test() ->
    %% relnif remembers parsed .app files between calls; an edit must still be seen.
    with_release(fun(Dir) ->
        {S1, R1} = both([{path, ["lib/*/ebin"]}]),
        ?assertEqual({ok, relnif, []}, setelement(2, S1, relnif)),
        ?assertEqual({ok, relnif, []}, R1),
        AppFile = filename:join(Dir, "lib/myapp-1.0/ebin/myapp.app"),
        {ok, [{application, myapp, Keys}]} = file:consult(AppFile),
        Edited = {application, myapp, lists:keystore(description, 1, Keys, {description, "Edited"})},
        ok = file:write_file(AppFile, u("~tp.~n", [Edited])),
        {S2, R2} = both([{path, ["lib/*/ebin"]}]),
        ?assertEqual(setelement(2, S2, relnif), R2),
        ?assertEqual(read("sys/myrel.boot"), read("rn/myrel.boot")),
        ?assertNotEqual(nomatch, binary:match(read("rn/myrel.script"), <<"Edited">>))
    end).

%% Corner cases a review found; each must give what systools gives (any 'EXIT' matching
%% any 'EXIT': systools' carry stack traces).
review_regressions_test() ->
    with_release(fun(Dir) ->
        Vsn = fun(A) -> {ok, V} = application:get_key(A, vsn), V end,
        Apps = [{kernel, Vsn(kernel)}, {stdlib, Vsn(stdlib)}, {sasl, Vsn(sasl)}],
        W = fun(F, T) -> ok = file:write_file(filename:join(Dir, F), u("~tp.~n", [T])) end,
        W("t1.rel", {release, {{a}, "1"}, {erts, "1"}, Apps}),
        W("t2.rel", {release, {[-1], "1"}, {erts, "1"}, Apps}),
        W("t3.rel", {release, {"r", "1"}, {erts, [99999999999999999999]}, Apps}),
        W("t4.rel", {release, {"r", "1"}, {erts, "1"}, Apps ++ [{foo, [$1 | x]}]}),
        ok = file:write_file("t5.rel", "{release,{\"r\",\"1\"},{erts,\"1\"},[{kernel,\"1\"}|foo]}.\n"),
        ok = file:make_dir("t6.rel"),
        ok = filelib:ensure_path("p"),
        W("p/t6.rel", {release, {"r", "1"}, {erts, "1"}, Apps}),
        Norm = fun({error, _, {'EXIT', _}}) -> exit;
                  ({Tag, _, R}) -> {Tag, R};
                  (X) -> X
               end,
        [?assertEqual({Rel, Norm(systools:make_script(Rel, Opts))}, {Rel, Norm(relnif:make_script(Rel, Opts))})
         || {Rel, Opts} <- [{"t1", [silent]}, {"t2", [silent]}, {"t3", [silent]}, {"t4", [silent]},
                            {"t5", [silent]}, {"t6", [silent, {path, ["p"]}]}, {[nonexist], [silent]}]],
        %% File names may be deep lists holding atoms.
        ?assertEqual({ok, relnif, []}, relnif:make_script("myrel", [silent, {path, ["lib/*/ebin"]}, {script_name, [q]}])),
        ?assert(filelib:is_regular("q.boot"))
    end).
