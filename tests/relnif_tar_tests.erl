%% SPDX-License-Identifier: Apache-2.0
%% relnif:make_tar against the real systools:make_tar, in the same VM: the tar inside the
%% .tar.gz must be byte-identical, the errors the same terms and texts, and the result
%% readable by erl_tar and GNU tar.
-module(relnif_tar_tests).

-include_lib("eunit/include/eunit.hrl").

%% A release of kernel, stdlib, sasl and `myapp' (with beams, priv, doc, a sys.config),
%% its boot file made by systools, in a scratch directory that is the cwd during Fun.
with_release(Fun) ->
    {ok, Cwd} = file:get_cwd(),
    Dir = filename:join([Cwd, "_build", "relnif_tar_tests",
                         os:getpid() ++ "-" ++ integer_to_list(erlang:unique_integer([positive]))]),
    App = filename:join(Dir, "lib/myapp-1.0"),
    [ok = filelib:ensure_path(filename:join(App, D)) || D <- ["ebin", "priv/empty", "priv/sub", "doc"]],
    ok = file:write_file(filename:join(App, "ebin/myapp.app"), io_lib:format("~tp.~n", [
        {application, myapp, [{description, "t"}, {vsn, "1.0"}, {modules, [myapp_sup, myapp_app]},
                              {registered, []}, {applications, [kernel, stdlib]}]}])),
    [ok = file:write_file(filename:join(App, "ebin/" ++ M ++ ".beam"), M) || M <- ["myapp_sup", "myapp_app"]],
    ok = file:write_file(filename:join(App, "ebin/not_packed.txt"), "x"),
    ok = file:write_file(filename:join(App, "priv/sub/data.bin"), crypto:strong_rand_bytes(5000)),
    ok = file:write_file(filename:join(App, "doc/readme.txt"), "doc"),
    Vsn = fun(A) -> _ = application:load(A), {ok, V} = application:get_key(A, vsn), V end,
    Rel = {release, {"myrel", "1.0.0"}, {erts, erlang:system_info(version)},
           [{kernel, Vsn(kernel)}, {stdlib, Vsn(stdlib)}, {sasl, Vsn(sasl)}, {myapp, "1.0"}]},
    ok = file:write_file(filename:join(Dir, "myrel.rel"), io_lib:format("~tp.~n", [Rel])),
    ok = file:write_file(filename:join(Dir, "sys.config"), "[{myapp, [{k, 1}]}].\n"),
    ok = file:write_file(filename:join(Dir, "extra.txt"), "extra"),
    ok = filelib:ensure_path(filename:join(Dir, "xdir/inner")),
    ok = file:write_file(filename:join(Dir, "xdir/inner/f"), "f"),
    ok = file:set_cwd(Dir),
    try
        {ok, systools_make, _} = systools:make_script("myrel", [silent, {path, ["lib/*/ebin"]}]),
        [ok = filelib:ensure_path(D) || D <- ["sys", "rn"]],
        Fun(Dir)
    after
        ok = file:set_cwd(Cwd),
        _ = file:del_dir_r(Dir)
    end.

tars(Opts) ->
    All = [silent, {path, ["lib/*/ebin"]} | Opts],
    {systools:make_tar("myrel", [{outdir, "sys"} | All]), relnif:make_tar("myrel", [{outdir, "rn"} | All])}.

gunzip(F) -> {ok, B} = file:read_file(F), zlib:gunzip(B).

same_as(Opts) ->
    {S, R} = tars(Opts),
    ?assertMatch({ok, systools_make, _}, S),
    {ok, systools_make, W} = S,
    ?assertEqual({ok, relnif, W}, R),
    ?assertEqual(gunzip("sys/myrel.tar.gz"), gunzip("rn/myrel.tar.gz")).

same_tar_as_systools_test_() ->
    {timeout, 120, fun() -> with_release(fun(_) ->
        same_as([]),
        same_as([{dirs, [doc, nonexistent]}]),
        same_as([{extra_files, [{"extra.txt", "top/extra.txt"}, {"xdir", "data"}]}]),
        same_as([{erts, code:root_dir()}]),
        same_as([{erts, code:root_dir()}, erts_all, no_warn_sasl, src_tests])
    end) end}.

variables_make_the_same_entries_test() ->
    with_release(fun(Dir) ->
        Lib = filename:join(Dir, "lib"),
        Names = fun(F) -> {ok, T} = erl_tar:table(F, [compressed]), T end,
        Opts = [silent, {path, [Lib ++ "/*/ebin"]}, {variables, [{"MY", Lib}]}],
        {ok, systools_make, W} = systools:make_tar("myrel", [{outdir, "sys"} | Opts]),
        ?assertEqual({ok, relnif, W}, relnif:make_tar("myrel", [{outdir, "rn"} | Opts])),
        ?assertEqual(Names("sys/myrel.tar.gz"), Names("rn/myrel.tar.gz")),
        ?assert(lists:member("MY.tar.gz", Names("rn/myrel.tar.gz"))),
        ?assertNot(lists:member("lib/myapp-1.0/ebin/myapp.app", Names("rn/myrel.tar.gz"))),
        Own = [{var_tar, ownfile} | Opts],
        {ok, systools_make, _} = systools:make_tar("myrel", [{outdir, "sys"} | Own]),
        SysOwn = Names("MY.tar.gz"),
        {ok, relnif, _} = relnif:make_tar("myrel", [{outdir, "rn"} | Own]),
        ?assertEqual(SysOwn, Names("MY.tar.gz")),
        ?assert(lists:member("myapp-1.0/ebin/myapp.app", SysOwn))
    end).

%% Each failure: systools' term (under relnif) and text, and no tarball left behind.
errors_are_systools_test_() ->
    Cases =
        [{"missing beam", fun() -> file:delete("lib/myapp-1.0/ebin/myapp_app.beam") end, []},
         {"no boot file", fun() -> file:delete("myrel.boot") end, []},
         {"bad sys.config", fun() -> file:write_file("sys.config", "[foo].\n") end, []},
         {"unparsable sys.config", fun() -> file:write_file("sys.config", "[{a,\n") end, []},
         {"bad relup", fun() -> file:write_file("relup", "{\"1\", [], []}.\n{x}.\n") end, []},
         {"missing extra file", fun() -> ok end, [{extra_files, [{"nope.txt", "nope.txt"}]}]},
         {"missing outdir", fun() -> ok end, [{outdir, "nonexistent"}]}],
    [{Name, fun() -> with_release(fun(_) ->
                         Setup(),
                         All = [silent, {path, ["lib/*/ebin"]} | Opts],
                         S = systools:make_tar("myrel", All ++ [{outdir, "sys"}]),
                         R = relnif:make_tar("myrel", All ++ [{outdir, "rn"}]),
                         {error, systools_make, E} = S,
                         Fix = fun(T) -> fix_outdir(T) end,
                         ?assertEqual({error, relnif, Fix(E)}, setelement(3, R, Fix(element(3, R)))),
                         ?assertEqual(Fix(lists:flatten(systools_make:format_error(E))),
                                      Fix(relnif:format_error(element(3, R)))),
                         ?assertEqual({ok, []}, file:list_dir("rn"))
                     end) end} || {Name, Setup, Opts} <- Cases].

%% The two calls write to different outdirs; errors naming them are otherwise equal.
fix_outdir(T) when is_list(T) ->
    case io_lib:printable_unicode_list(T) of
        true -> lists:flatten(string:replace(string:replace(T, "sys/", "OUT/", all), "rn/", "OUT/", all));
        false -> [fix_outdir(X) || X <- T]
    end;
fix_outdir(T) when is_tuple(T) -> list_to_tuple(fix_outdir(tuple_to_list(T)));
fix_outdir(T) -> T.

%% systools:make_tar/1 takes a list of atoms as a (deep) name, not as `erl -s' arguments
%% the way make_script/1 does; relnif's did, and raised badarg on an unknown one.
make_tar_1_of_atoms_is_a_name_test() ->
    with_release(fun(_) ->
        %% Not found (printed, `error'), the name being [myrel, unknown_key | ".rel"].
        ?assertEqual(error, relnif:make_tar([myrel, unknown_key])),
        [?assertEqual(systools:make_tar(Arg), relnif:make_tar(Arg))
         || Arg <- [[myrel, unknown_key], [myrel, silent], [myrel]]]
    end).

bad_options_raise_like_systools_test() ->
    Opts = [local, foo, {dirs, [1]}, {var_tar, x}, {erts, a}, silent, no_dot_erlang],
    Bad = try systools:make_tar("myrel", Opts) catch error:{badarg, B} -> B end,
    ?assertError({badarg, Bad}, relnif:make_tar("myrel", Opts)).

reproducible_runs_give_the_same_bytes_test() ->
    with_release(fun(_) ->
        {ok, relnif, _} = relnif:make_tar("myrel", [silent, {path, ["lib/*/ebin"]}, {outdir, "rn"}, {reproducible, true}]),
        {ok, First} = file:read_file("rn/myrel.tar.gz"),
        [file:change_time(F, {{2020, 1, 1}, {0, 0, 0}}) || F <- filelib:wildcard("lib/myapp-1.0/**")],
        {ok, relnif, _} = relnif:make_tar("myrel", [silent, {path, ["lib/*/ebin"]}, {outdir, "rn"}, {reproducible, true}]),
        ?assertEqual({ok, First}, file:read_file("rn/myrel.tar.gz")),
        Listing = os:cmd("TZ=UTC tar --numeric-owner -tvzf rn/myrel.tar.gz"),
        Lines = string:lexemes(Listing, "\n"),
        ?assertEqual(length(Lines), length([L || L <- Lines, string:find(L, " 0/0 ") =/= nomatch,
                                                 string:find(L, "1970-01-01 00:00") =/= nomatch])),
        os:putenv("SOURCE_DATE_EPOCH", "1700000000"),
        try {ok, relnif, _} = relnif:make_tar("myrel", [silent, {path, ["lib/*/ebin"]}, {outdir, "rn"}])
        after os:unsetenv("SOURCE_DATE_EPOCH")
        end,
        Out = os:cmd("TZ=UTC tar --numeric-owner -tvzf rn/myrel.tar.gz"),
        ?assertEqual(nomatch, string:find(Out, "2020-")),
        ?assertNotEqual(nomatch, string:find(Out, "2023-11-14 22:13"))
    end).

gnu_tar_and_every_level_read_back_test_() ->
    {timeout, 60, fun() -> with_release(fun(_) ->
        {_, {ok, relnif, _}} = tars([{erts, code:root_dir()}]),
        {ok, Sys} = erl_tar:table("sys/myrel.tar.gz", [compressed]),
        %% GNU tar shows the empty directory with its slash, erl_tar without.
        Gnu = [string:trim(L, trailing, "/") || L <- string:lexemes(os:cmd("tar -tzf rn/myrel.tar.gz"), "\n")],
        ?assert(Sys =:= Gnu),
        ?assertEqual("", os:cmd("gzip -t rn/myrel.tar.gz 2>&1")),
        SysSize = filelib:file_size("sys/myrel.tar.gz"),
        ?assert(abs(filelib:file_size("rn/myrel.tar.gz") / SysSize - 1) < 0.02),
        Want = gunzip("sys/myrel.tar.gz"),
        [begin
             {ok, relnif, _} = relnif:make_tar("myrel", [silent, {path, ["lib/*/ebin"]}, {outdir, "rn"},
                                                         {erts, code:root_dir()}, {compression_level, L}]),
             ?assertEqual(Want, gunzip("rn/myrel.tar.gz"))
         end || L <- [0, 1, 9]]
    end) end}.

%% The tarball installs a target system and release_handler unpacks the next version's
%% tarball in it: extract v1 (with ERTS), boot it from its own root, unpack v2.
release_handler_unpacks_it_on_a_target_system_test_() ->
    {timeout, 120, fun() ->
        {ok, Cwd} = file:get_cwd(),
        Dir = filename:join([Cwd, "_build", "relnif_tar_tests", "target-" ++ os:getpid()]),
        _ = file:del_dir_r(Dir),
        Target = filename:join(Dir, "target"),
        ok = filelib:ensure_path(Target),
        Vsn = fun(A) -> _ = application:load(A), {ok, V} = application:get_key(A, vsn), V end,
        Erts = erlang:system_info(version),
        MakeRel = fun(RelFile, RelVsn, AppVsn) ->
            Ebin = filename:join([Dir, "lib", "myapp-" ++ AppVsn, "ebin"]),
            ok = filelib:ensure_path(Ebin),
            ok = file:write_file(filename:join(Ebin, "myapp.app"), io_lib:format("~p.~n", [
                {application, myapp, [{description, "t"}, {vsn, AppVsn}, {modules, []}, {registered, []},
                                      {applications, [kernel, stdlib]}]}])),
            Base = filename:join(Dir, RelFile),
            ok = file:write_file(Base ++ ".rel", io_lib:format("~p.~n", [
                {release, {"myrel", RelVsn}, {erts, Erts},
                 [{kernel, Vsn(kernel)}, {stdlib, Vsn(stdlib)}, {sasl, Vsn(sasl)}, {myapp, AppVsn}]}])),
            Path = [filename:join(Ebin, "")],
            {ok, relnif, _} = relnif:make_script(Base, [silent, {path, Path}, {outdir, Dir}]),
            ok = file:rename(Base ++ ".boot", filename:join(Dir, "start.boot")),
            {ok, relnif, _} = relnif:make_tar(Base, [silent, {path, Path}, {outdir, Dir}, {erts, code:root_dir()}]),
            ok = file:delete(filename:join(Dir, "start.boot"))
        end,
        try
            MakeRel("myrel", "1.0.0", "1.0"),
            MakeRel("myrel2", "2.0.0", "2.0"),
            ok = erl_tar:extract(filename:join(Dir, "myrel.tar.gz"), [compressed, {cwd, Target}]),
            ok = release_handler:create_RELEASES(Target, filename:join(Target, "releases"),
                                                 filename:join([Target, "releases", "myrel.rel"]), []),
            {ok, _} = file:copy(filename:join(Dir, "myrel2.tar.gz"), filename:join([Target, "releases", "myrel2.tar.gz"])),
            Out = filename:join(Dir, "unpacked"),
            Bin = filename:join([Target, "erts-" ++ Erts, "bin"]),
            Eval = lists:flatten(io_lib:format(
                     "R = release_handler:unpack_release(\"myrel2\"), "
                     "file:write_file(~p, io_lib:format(\"~~p\", [{R, code:root_dir()}])), halt().", [Out])),
            Port = open_port({spawn_executable, filename:join(Bin, "erlexec")},
                             [{args, ["-boot", filename:join([Target, "releases", "1.0.0", "start"]),
                                      "-noshell", "-eval", Eval]},
                              {env, [{"ROOTDIR", Target}, {"BINDIR", Bin}, {"EMU", "beam"}, {"PROGNAME", "erl"}]},
                              exit_status, stderr_to_stdout]),
            receive {Port, {exit_status, _}} -> ok after 60000 -> error(target_node_hangs) end,
            {ok, Result} = file:read_file(Out),
            ?assertEqual(lists:flatten(io_lib:format("~p", [{{ok, "2.0.0"}, Target}])), binary_to_list(Result)),
            ?assert(filelib:is_regular(filename:join([Target, "lib", "myapp-2.0", "ebin", "myapp.app"])))
        after
            file:del_dir_r(Dir)
        end
    end}.
