#!/usr/bin/env escript
%% SPDX-License-Identifier: Apache-2.0
%% Adds files of priv/ (the NIF library, heart, run_erl, to_erl, templates) to an
%% escript's archive as fastrel/priv/...: rebar3 escriptize packs only ebin/.
main([Escript | PrivFiles]) ->
    {ok, Sections} = escript:extract(Escript, []),
    {archive, Zip} = lists:keyfind(archive, 1, Sections),
    {ok, Files0} = zip:extract(Zip, [memory]),
    Files = lists:foldl(fun(F, Acc) ->
                                {ok, Bin} = file:read_file(F),
                                Entry = "fastrel/" ++ F,
                                lists:keystore(Entry, 1, Acc, {Entry, Bin})
                        end, Files0, PrivFiles),
    {ok, {_, NewZip}} = zip:create("fastrel.zip", Files, [memory]),
    ok = escript:create(Escript, lists:keystore(archive, 1, Sections, {archive, NewZip})),
    ok = file:change_mode(Escript, 8#755).
