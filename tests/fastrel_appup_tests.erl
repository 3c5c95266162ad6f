%% SPDX-License-Identifier: Apache-2.0
%% Tests of fastrel_appup on two versions of a small application compiled on the fly, with
%% the result fed to the real systools:make_relup/4.
-module(fastrel_appup_tests).

-include_lib("eunit/include/eunit.hrl").

%%% ---------------------------------------------------------------- fixtures

scratch() -> fastrel_os:scratch("appup_tests").

%% The modules of shop 1.0 and 2.0. Between them:
%%   shop_plain  changed; 2.0 calls shop_dep (changed), 1.0 called shop_old (deleted in 2.0)
%%   shop_dep    changed
%%   shop_server gen_server, changed; 2.0 calls shop_new (added), both call shop_same
%%   shop_fsm    gen_statem spelled -behavior, changed
%%   shop_sup    supervisor, changed
%%   shop_app    application callback, changed (config_change/3 added)
%%   shop_same   identical source, compiled again for 2.0
%%   shop_new    only in 2.0; shop_old only in 1.0
sources("1.0") ->
    [{shop_plain, "-export([f/0]).\nf() -> shop_old:g() + shop_same:h().\n"},
     {shop_dep, "-export([d/0]).\nd() -> 1.\n"},
     {shop_server, server("1")},
     {shop_fsm, fsm("a")},
     {shop_sup, sup("one_for_one")},
     {shop_app, "-behaviour(application).\n-export([start/2, stop/1]).\n"
                "start(_, _) -> shop_sup:start_link().\nstop(_) -> ok.\n"},
     {shop_same, same()},
     {shop_old, "-export([g/0]).\ng() -> 2.\n"}];
sources("2.0") ->
    [{shop_plain, "-export([f/0]).\nf() -> shop_dep:d() + shop_same:h().\n"},
     {shop_dep, "-export([d/0]).\nd() -> 10.\n"},
     {shop_server, "-export([x/0]).\n" ++ server("2") ++ "x() -> shop_new:n().\n"},
     {shop_fsm, fsm("b")},
     {shop_sup, sup("one_for_all")},
     {shop_app, "-behaviour(application).\n-export([start/2, stop/1, config_change/3]).\n"
                "start(_, _) -> shop_sup:start_link().\nstop(_) -> ok.\n"
                "config_change(_, _, _) -> ok.\n"},
     {shop_same, same()},
     {shop_new, "-export([n/0]).\nn() -> 3.\n"}].

server(Tag) ->
    "-behaviour(gen_server).\n"
    "-export([init/1, handle_call/3, handle_cast/2, code_change/3]).\n"
    "init(_) -> {ok, " ++ Tag ++ "}.\n"
    "handle_call(_, _, S) -> {reply, shop_same:h(), S}.\n"
    "handle_cast(_, S) -> {noreply, S}.\n"
    "code_change(_, S, _) -> {ok, S}.\n".

fsm(State) ->
    "-behavior(gen_statem).\n"
    "-export([init/1, callback_mode/0, " ++ State ++ "/3]).\n"
    "init(_) -> {ok, " ++ State ++ ", []}.\n"
    "callback_mode() -> state_functions.\n"
    ++ State ++ "(_, _, D) -> {keep_state, D}.\n".

sup(Strategy) ->
    "-behaviour(supervisor).\n-export([start_link/0, init/1]).\n"
    "start_link() -> supervisor:start_link({local, ?MODULE}, ?MODULE, []).\n"
    "init([]) -> {ok, {#{strategy => " ++ Strategy ++ "}, []}}.\n".

same() -> "-export([h/0]).\nh() -> 5.\n".

%% lib/shop-Vsn/ebin under Root, with shop.app (modules listed, Env as its env);
%% returns the app dir. Sources live in a per-version src/ so each beam is compiled anew.
app(Root, Vsn) -> app(Root, Vsn, sources(Vsn), []).

app(Root, Vsn, Sources, Env) ->
    AppDir = filename:join([Root, "lib", "shop-" ++ Vsn]),
    Src = filename:join(AppDir, "src"),
    Ebin = filename:join(AppDir, "ebin"),
    ok = filelib:ensure_path(Src),
    ok = filelib:ensure_path(Ebin),
    [begin
         File = filename:join(Src, atom_to_list(M) ++ ".erl"),
         ok = file:write_file(File, ["-module(", atom_to_list(M), ").\n", Body]),
         {ok, M} = compile:file(File, [{outdir, Ebin}, debug_info, return_errors])
     end || {M, Body} <- Sources],
    App = {application, shop,
           [{description, "shop"}, {vsn, Vsn}, {modules, [M || {M, _} <- Sources]},
            {registered, [shop_sup]}, {applications, [kernel, stdlib]},
            {mod, {shop_app, []}}, {env, Env}]},
    ok = file:write_file(filename:join(Ebin, "shop.app"), io_lib:format("~tp.~n", [App])),
    AppDir.

ebin(AppDir) -> filename:join(AppDir, "ebin").

expected() ->
    {"2.0",
     [{"1.0", [{load_module, shop_app, [shop_sup]},
               {load_module, shop_dep, []},
               {update, shop_fsm, {advanced, []}, []},
               {add_module, shop_new},
               {delete_module, shop_old, [shop_plain]},
               {load_module, shop_plain, [shop_dep]},
               {update, shop_server, {advanced, []}, [shop_new]},
               {update, shop_sup, supervisor}]}],
     [{"1.0", [{load_module, shop_app, [shop_sup]},
               {load_module, shop_dep, []},
               {update, shop_fsm, {advanced, []}, []},
               {delete_module, shop_new},
               {add_module, shop_old, [shop_plain]},
               {load_module, shop_plain, [shop_dep]},
               {update, shop_server, {advanced, []}, [shop_new]},
               {update, shop_sup, supervisor}]}]}.

otp_vsn(App) ->
    _ = application:load(App),
    {ok, V} = application:get_key(App, vsn),
    V.

write_rel(Root, Vsn) ->
    Rel = {release, {"shop", Vsn}, {erts, erlang:system_info(version)},
           [{kernel, otp_vsn(kernel)}, {stdlib, otp_vsn(stdlib)}, {sasl, otp_vsn(sasl)}, {shop, Vsn}]},
    ok = file:write_file(filename:join(Root, "shop-" ++ Vsn ++ ".rel"), io_lib:format("~tp.~n", [Rel])).

index(X, L) -> index(X, L, 1).
index(X, [X | _], N) -> N;
index(X, [_ | T], N) -> index(X, T, N + 1);
index(X, [], _) -> error({not_found, X}).

%%% ---------------------------------------------------------------- generate

exact_appup_test() ->
    Root = scratch(),
    Old = app(Root, "1.0"),
    New = app(Root, "2.0"),
    %% The recompiled module really is a different file, with the same code.
    {ok, OldSame} = file:read_file(filename:join(ebin(Old), "shop_same.beam")),
    {ok, NewSame} = file:read_file(filename:join(ebin(New), "shop_same.beam")),
    ?assertNotEqual(OldSame, NewSame),
    ?assertEqual({ok, expected()}, fastrel_appup:generate(shop, "1.0", ebin(Old), "2.0", ebin(New))).

same_code_gives_no_instructions_test() ->
    Root = scratch(),
    Old = app(filename:join(Root, "a"), "1.0", sources("1.0"), [{size, 1}]),
    New = app(filename:join(Root, "b"), "1.1", sources("1.0"), [{size, 2}]),
    ?assertEqual({ok, {"1.1", [{"1.0", []}], [{"1.0", []}]}},
                 fastrel_appup:generate(shop, "1.0", ebin(Old), "1.1", ebin(New))).

%% A beam in ebin that the .app does not list is never loaded by release_handler.
unlisted_beams_are_ignored_test() ->
    Root = scratch(),
    Old = app(filename:join(Root, "a"), "1.0", [{shop_same, same()}], []),
    New = app(filename:join(Root, "b"), "1.1", [{shop_same, same()}], []),
    File = filename:join(Root, "stray.erl"),
    ok = file:write_file(File, "-module(stray).\n"),
    {ok, stray} = compile:file(File, [{outdir, ebin(New)}]),
    ?assertEqual({ok, {"1.1", [{"1.0", []}], [{"1.0", []}]}},
                 fastrel_appup:generate(shop, "1.0", ebin(Old), "1.1", ebin(New))).

make_relup_accepts_it_test_() ->
    {timeout, 120, fun() ->
        Root = scratch(),
        _ = app(Root, "1.0"),
        New = app(Root, "2.0"),
        {ok, Appup} = fastrel_appup:generate(shop, "1.0", ebin(filename:join([Root, "lib", "shop-1.0"])), "2.0", ebin(New)),
        ok = file:write_file(filename:join(ebin(New), "shop.appup"), io_lib:format("~tp.~n", [Appup])),
        write_rel(Root, "1.0"),
        write_rel(Root, "2.0"),
        Opts = [silent, {outdir, Root}, {path, [Root, filename:join([Root, "lib", "*", "ebin"])]}],
        {ok, Relup, systools_relup, []} = systools:make_relup(filename:join(Root, "shop-2.0"), ["shop-1.0"], ["shop-1.0"], Opts),
        {"2.0", [{"1.0", [], Up}], [{"1.0", [], Down}]} = Relup,
        %% The DepMods took effect. Up: callees first, callers of a deleted module before
        %% it goes. Down (the reverse): callers first, a re-added module before its callers.
        L = fun(M) -> {load, {M, brutal_purge, brutal_purge}} end,
        R = fun(M) -> {remove, {M, brutal_purge, brutal_purge}} end,
        ?assert(index(L(shop_dep), Up) < index(L(shop_plain), Up)),
        ?assert(index(L(shop_new), Up) < index(L(shop_server), Up)),
        ?assert(index(L(shop_plain), Up) < index(R(shop_old), Up)),
        ?assert(index(L(shop_plain), Down) < index(L(shop_dep), Down)),
        ?assert(index(L(shop_server), Down) < index(R(shop_new), Down)),
        ?assert(index(L(shop_old), Down) < index(L(shop_plain), Down)),
        %% systools_rc makes one code_change per group of dependent modules.
        ?assertEqual([shop_fsm, shop_server, shop_sup], lists:sort([M || {code_change, up, Ms} <- Up, {M, []} <- Ms])),
        ?assertEqual([shop_fsm, shop_server, shop_sup], lists:sort([M || {code_change, down, Ms} <- Down, {M, []} <- Ms]))
    end}.

%%% ---------------------------------------------------------------- ensure

ensure_writes_and_regenerates_test() ->
    Root = scratch(),
    Old = app(Root, "1.0"),
    New = app(Root, "2.0"),
    Path = filename:join(ebin(New), "shop.appup"),
    ?assertEqual({ok, {generated, Path}}, fastrel_appup:ensure(shop, "1.0", Old, "2.0", New)),
    ?assertEqual({ok, [expected()]}, file:consult(Path)),
    {ok, Text} = file:read_file(Path),
    ?assertMatch(<<"%% Generated by fastrel", _/binary>>, Text),
    ?assertNotEqual(nomatch, binary:match(Text, unicode:characters_to_binary(ebin(Old)))),
    {ok, InEbin} = file:list_dir(ebin(New)),
    ?assertEqual([], [F || F <- InEbin, string:find(F, ".tmp") =/= nomatch]),
    %% Its own file (header intact) is fastrel's to replace.
    ok = file:write_file(Path, <<"%% Generated by fastrel (fastrel_appup) earlier.\n{\"2.0\",[],[]}.\n">>),
    ?assertEqual({ok, {generated, Path}}, fastrel_appup:ensure(shop, "1.0", Old, "2.0", New)),
    ?assertEqual({ok, [expected()]}, file:consult(Path)).

hand_written_appup_is_kept_test() ->
    Root = scratch(),
    Old = app(Root, "1.0"),
    New = app(Root, "2.0"),
    Path = filename:join(ebin(New), "shop.appup"),
    Mine = <<"%% by hand\n{\"2.0\", [{\"1.0\", [{restart_application, shop}]}], [{\"1.0\", []}]}.\n">>,
    ok = file:write_file(Path, Mine),
    ?assertEqual({ok, {existing, Path}}, fastrel_appup:ensure(shop, "1.0", Old, "2.0", New)),
    ?assertEqual({ok, Mine}, file:read_file(Path)).

%%% ---------------------------------------------------------------- errors

corrupt_beam_names_the_file_test() ->
    Root = scratch(),
    Old = app(Root, "1.0"),
    New = app(Root, "2.0"),
    Beam = filename:join(ebin(New), "shop_same.beam"),
    ok = file:write_file(Beam, <<"FOR1 this is not a beam">>),
    {error, fastrel_appup, Reason} = fastrel_appup:generate(shop, "1.0", ebin(Old), "2.0", ebin(New)),
    ?assertMatch({beam, Beam, _}, Reason),
    Text = lists:flatten(fastrel_appup:format_error(Reason)),
    ?assertNotEqual(nomatch, string:find(Text, Beam)),
    ?assertEqual([], [C || C <- Text, C =:= $\n]),
    %% ensure/5 reports the same and writes nothing.
    ?assertMatch({error, fastrel_appup, {beam, Beam, _}}, fastrel_appup:ensure(shop, "1.0", Old, "2.0", New)),
    ?assertNot(filelib:is_regular(filename:join(ebin(New), "shop.appup"))).

truncated_beam_names_the_file_test() ->
    Root = scratch(),
    Old = app(Root, "1.0"),
    New = app(Root, "2.0"),
    Beam = filename:join(ebin(Old), "shop_dep.beam"),
    {ok, Bin} = file:read_file(Beam),
    ok = file:write_file(Beam, binary:part(Bin, 0, byte_size(Bin) div 2)),
    {error, fastrel_appup, {beam, Beam, _} = Reason} =
        fastrel_appup:generate(shop, "1.0", ebin(Old), "2.0", ebin(New)),
    ?assertNotEqual(nomatch, string:find(lists:flatten(fastrel_appup:format_error(Reason)), Beam)).

missing_ebin_test() ->
    Root = scratch(),
    New = app(Root, "2.0"),
    Gone = filename:join(Root, "nowhere/ebin"),
    {error, fastrel_appup, Reason} = fastrel_appup:generate(shop, "1.0", Gone, "2.0", ebin(New)),
    ?assertEqual({no_ebin, Gone}, Reason),
    ?assertNotEqual(nomatch, string:find(lists:flatten(fastrel_appup:format_error(Reason)), Gone)).

%%% ---------------------------------------------------------------- releases

%% relx's layout after building 1.0 and then 2.0 into the same directory.
release_dir() ->
    Rel = scratch(),
    _ = app(Rel, "1.0"),
    _ = app(Rel, "2.0"),
    [begin
         ok = filelib:ensure_path(filename:join([Rel, "releases", V])),
         Apps = [{kernel, otp_vsn(kernel)}, {stdlib, otp_vsn(stdlib)}, {sasl, otp_vsn(sasl)}, {shop, V}]
                ++ [{extra, "0.1"} || V =:= "2.0"],
         RelTerm = {release, {"shop", V}, {erts, erlang:system_info(version)}, Apps},
         ok = file:write_file(filename:join([Rel, "releases", V, "shop.rel"]), io_lib:format("~tp.~n", [RelTerm]))
     end || V <- ["1.0", "2.0"]],
    ok = file:write_file(filename:join([Rel, "releases", "start_erl.data"]),
                         [erlang:system_info(version), " 2.0\n"]),
    Rel.

for_releases_same_dir_test() ->
    Rel = release_dir(),
    Path = filename:join([Rel, "lib", "shop-2.0", "ebin", "shop.appup"]),
    ?assertEqual({ok, [{kernel, unchanged}, {stdlib, unchanged}, {sasl, unchanged},
                       {shop, {generated, Path}}, {extra, added}]},
                 fastrel_appup:for_releases(Rel, Rel, shop)),
    ?assertEqual({ok, [expected()]}, file:consult(Path)),
    %% The name is optional when the directory holds one release.
    ?assertMatch({ok, [_, _, _, {shop, {generated, Path}}, _]}, fastrel_appup:for_releases(Rel, Rel, undefined)).

for_releases_lib_dir_test() ->
    Rel = release_dir(),
    Path = filename:join([Rel, "lib", "shop-2.0", "ebin", "shop.appup"]),
    ?assertMatch({ok, [_, _, _, {shop, {generated, Path}}, {extra, added}]},
                 fastrel_appup:for_releases(filename:join(Rel, "lib"), Rel, "shop")),
    ?assertEqual({ok, [expected()]}, file:consult(Path)).

for_releases_errors_test() ->
    Rel = release_dir(),
    Empty = scratch(),
    ?assertEqual({error, fastrel_appup, {no_release, Empty}}, fastrel_appup:for_releases(Rel, Empty, shop)),
    ?assertEqual({error, fastrel_appup, {no_such_release, Rel, "other"}}, fastrel_appup:for_releases(Rel, Rel, other)),
    ?assertMatch({error, fastrel_appup, {no_previous_release, Empty, "2.0"}}, fastrel_appup:for_releases(Empty, Rel, shop)),
    ok = file:del_dir_r(filename:join([Rel, "lib", "shop-1.0"])),
    {error, fastrel_appup, Reason} = fastrel_appup:for_releases(Rel, Rel, shop),
    ?assertEqual({no_previous_code, shop, "1.0", filename:join(Rel, "lib")}, Reason),
    ?assertNotEqual(nomatch, string:find(lists:flatten(fastrel_appup:format_error(Reason)), "shop-1.0")).

%%% ---------------------------------------------------------------- escript, rebar3

repo() -> {ok, Cwd} = file:get_cwd(), Cwd.

%% Runs Exe with Args in Dir: {ExitStatus, Output (stdout and stderr)}, bounded in time.
run(Dir, Exe, Args, Env) ->
    Port = open_port({spawn_executable, Exe},
                     [{args, Args}, {cd, Dir}, {env, Env}, exit_status, stderr_to_stdout, binary]),
    collect(Port, <<>>).

collect(Port, Acc) ->
    receive
        {Port, {data, D}} -> collect(Port, <<Acc/binary, D/binary>>);
        {Port, {exit_status, S}} -> {S, unicode:characters_to_list(Acc)}
    after 240000 -> error({hangs, Acc})
    end.

escript_test_() ->
    {timeout, 120, fun() ->
        Escript = filename:join(repo(), "_build/default/bin/fastrel"),
        ?assert(filelib:is_regular(Escript)),
        Rel = release_dir(),
        Path = filename:join([Rel, "lib", "shop-2.0", "ebin", "shop.appup"]),
        {0, Out} = run(Rel, Escript, ["appup", Rel, Rel], [{"FASTREL_NIF_PATH", false}]),
        ?assertEqual(["kernel: same version as before, no appup needed",
                      "stdlib: same version as before, no appup needed",
                      "sasl: same version as before, no appup needed",
                      "shop: generated " ++ Path,
                      "extra: new in this release, no appup needed (make_relup adds it)"],
                     string:lexemes(Out, "\n")),
        ?assertEqual({ok, [expected()]}, file:consult(Path)),
        %% A second run keeps a hand-written appup and says so.
        ok = file:write_file(Path, <<"{\"2.0\", [{\"1.0\", []}], [{\"1.0\", []}]}.\n">>),
        {0, Out2} = run(Rel, Escript, ["appup", "lib", ".", "-n", "shop"], []),
        ?assertNotEqual(nomatch, string:find(Out2, "shop: kept ./lib/shop-2.0/ebin/shop.appup (not generated by fastrel)")),
        %% Errors: one sentence naming the file, exit 1; usage errors exit 2.
        Beam = filename:join([Rel, "lib", "shop-1.0", "ebin", "shop_dep.beam"]),
        ok = file:delete(Path),
        ok = file:write_file(Beam, <<"garbage">>),
        {1, Err} = run(Rel, Escript, ["appup", Rel, Rel], []),
        ?assertMatch(["fastrel: cannot read " ++ _], string:lexemes(Err, "\n")),
        ?assertNotEqual(nomatch, string:find(Err, Beam)),
        {2, _} = run(Rel, Escript, ["appup", Rel], []),
        {2, _} = run(Rel, Escript, ["appup", "--bogus", Rel, Rel], [])
    end}.

%% `rebar3 fastrel appup' on a real project: example_server 1.0.0 and then 1.1.0 assembled
%% into the same directory (with the plugin from _checkouts), its appup written, and
%% systools:make_relup run on the release directory as relx would.
rebar3_provider_test_() ->
    {timeout, 600, fun() ->
        Dir = filename:join([repo(), "_build", "appup_tests", "plugin-" ++ os:getpid()]),
        _ = file:del_dir_r(Dir),
        ok = filelib:ensure_path(filename:join(Dir, "_checkouts")),
        ok = file:make_symlink(repo(), filename:join([Dir, "_checkouts", "fastrel"])),
        Src = filename:join(Dir, "src"),
        ok = filelib:ensure_path(Src),
        ExSrc = filename:join([repo(), "examples", "example_server", "src"]),
        {ok, Files} = file:list_dir(ExSrc),
        [{ok, _} = file:copy(filename:join(ExSrc, F), filename:join(Src, F)) || F <- Files],
        Config = fun(Vsn) ->
                     ok = file:write_file(filename:join(Dir, "rebar.config"), io_lib:format(
                            "{project_plugins, [fastrel]}.~n{relx, ~p}.~n",
                            [[{release, {example_server, Vsn}, [example_server, sasl]}, {include_erts, false}]]))
                 end,
        Rebar3 = fun(Args) ->
                         run(Dir, os:find_executable("rebar3"), Args,
                             [{"FASTREL_PREBUILT", filename:join(repo(), "priv")}, {"REBAR_OFFLINE", "1"}])
                 end,
        Config("1.0.0"),
        {0, _} = Rebar3(["fastrel", "release"]),
        %% 1.1.0: the gen_server gets a function; the supervisor and app are untouched.
        AppSrc = filename:join(Src, "example_server.app.src"),
        {ok, AppText} = file:read_file(AppSrc),
        ok = file:write_file(AppSrc, binary:replace(AppText, <<"\"1.0.0\"">>, <<"\"1.1.0\"">>)),
        Server = filename:join(Src, "example_server.erl"),
        {ok, ServerText} = file:read_file(Server),
        ok = file:write_file(Server, [binary:replace(ServerText, <<"-export([start_link/0,">>, <<"-export([reset/0, start_link/0,">>),
                                      "reset() -> gen_server:cast(?MODULE, reset).\n"]),
        Config("1.1.0"),
        %% rebar3 decides what to recompile by mtime, which may not have moved within the
        %% second since the 1.0.0 build: start from no build of the app at all.
        ok = file:del_dir_r(filename:join([Dir, "_build", "default", "lib", "example_server"])),
        {0, _} = Rebar3(["fastrel", "release"]),
        {0, Out} = Rebar3(["fastrel", "appup"]),
        Rel = filename:join([Dir, "_build", "default", "rel", "example_server"]),
        Appup = filename:join([Rel, "lib", "example_server-1.1.0", "ebin", "example_server.appup"]),
        ?assertNotEqual(nomatch, string:find(Out, "example_server: generated " ++ Appup)),
        ?assertNotEqual(nomatch, string:find(Out, "sasl: same version as before, no appup needed")),
        ?assertEqual({ok, [{"1.1.0", [{"1.0.0", [{update, example_server, {advanced, []}, []}]}],
                                     [{"1.0.0", [{update, example_server, {advanced, []}, []}]}]}]},
                     file:consult(Appup)),
        %% --previous with a directory that is not there: rebar3's error, naming it.
        {1, Bad} = Rebar3(["fastrel", "appup", "--previous", "/nonexistent/rel"]),
        ?assertNotEqual(nomatch, string:find(Bad, "/nonexistent/rel is not a directory")),
        %% make_relup reads the appup next to the top version's .app.
        Opts = [silent, {outdir, Dir}, {path, [filename:join([Rel, "lib", "*", "ebin"])]}],
        RelFile = fun(V) -> filename:join([Rel, "releases", V, "example_server"]) end,
        ?assertMatch({ok, {"1.1.0", [{"1.0.0", [], [_ | _]}], [{"1.0.0", [], [_ | _]}]}, systools_relup, []},
                     systools:make_relup(RelFile("1.1.0"), [RelFile("1.0.0")], [RelFile("1.0.0")], Opts))
    end}.
