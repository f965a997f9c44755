! PC-stable with Fisher-z from Fortran.  Oracles: the known CPDAG of simulated
! linear-Gaussian models (a chain A -> B -> C, whose CPDAG is A --- B --- C; a collider
! X1 -> X3 <- X2 with X3 -> X4, all of which is oriented), and on the Sachs data the edges
! printed by the latens CLI (`latens causal pc`, same defaults) when ./latens is present.
program test_causal
  use, intrinsic :: iso_c_binding
  use latens
  implicit none
  integer, parameter :: n = 2000, T = LATENS_CAUSAL_TAIL, A = LATENS_CAUSAL_ARROW
  type(latens_rng) :: rng
  type(latens_causal_graph) :: g
  type(latens_causal_pc_options) :: opt
  real(c_double) :: x(n, 4), e(n, 4)
  integer, allocatable :: ep(:, :), from(:), to(:)
  integer :: truth(4, 4), failures
  failures = 0
  call rng%init(2005_c_int64_t)
  opt = latens_causal_pc_options_default()
  opt%alpha = 0.01d0

  ! Chain.
  call rng%fill_normal(e(:, 1))
  call rng%fill_normal(e(:, 2))
  call rng%fill_normal(e(:, 3))
  x(:, 1) = e(:, 1)
  x(:, 2) = 0.8d0 * x(:, 1) + e(:, 2)
  x(:, 3) = 0.8d0 * x(:, 2) + e(:, 3)
  call latens_causal_pc(x(:, 1:3), g, names=['A', 'B', 'C'], opt=opt)
  call g%endpoints(ep)
  truth = 0
  truth(1, 2) = T; truth(2, 1) = T; truth(2, 3) = T; truth(3, 2) = T
  call show('chain A -> B -> C', g)
  call check(all(ep == truth(1:3, 1:3)), 'chain: CPDAG A --- B --- C')
  call check(g%name(2) == 'B' .and. g%nnodes() == 3 .and. g%nedges() == 2, 'chain: names, counts')

  ! Collider with a descendant.
  call rng%fill_normal(e(:, 1))
  call rng%fill_normal(e(:, 2))
  call rng%fill_normal(e(:, 3))
  call rng%fill_normal(e(:, 4))
  x(:, 1) = e(:, 1)
  x(:, 2) = e(:, 2)
  x(:, 3) = 0.8d0 * x(:, 1) + 0.8d0 * x(:, 2) + e(:, 3)
  x(:, 4) = 0.8d0 * x(:, 3) + e(:, 4)
  call latens_causal_pc(x, g, opt=opt)
  call g%endpoints(ep)
  truth = 0
  truth(1, 3) = A; truth(3, 1) = T   ! X1 --> X3
  truth(2, 3) = A; truth(3, 2) = T   ! X2 --> X3
  truth(3, 4) = A; truth(4, 3) = T   ! X3 --> X4
  call show('collider X1 -> X3 <- X2, X3 -> X4', g)
  call check(all(ep == truth), 'collider: CPDAG X1 --> X3 <-- X2, X3 --> X4')
  call check(g%name(4) == 'X4', 'default names X1..Xp')

  call sachs()
  ! Main-program variables are never deallocated by themselves: release them so that leak
  ! checkers (ASan's LeakSanitizer in CI) see a clean exit.
  if (allocated(ep)) deallocate(ep)
  if (allocated(from)) deallocate(from)
  if (allocated(to)) deallocate(to)
  call g%free()

  if (failures > 0) error stop 'test_causal: failures'
  print '(a)', 'test_causal: all checks passed'
contains
  include 'check.inc'

  subroutine show(what, g)
    character(*), intent(in) :: what
    type(latens_causal_graph), intent(in) :: g
    integer, allocatable :: f(:), t(:)
    character(3), allocatable :: ty(:)
    integer :: k
    call g%edges(f, t, ty)
    print '(a,a)', what, ':'
    do k = 1, size(f)
       print '(4x,a,1x,a,1x,a)', g%name(f(k)), ty(k), g%name(t(k))
    end do
  end subroutine show

  ! The Sachs data through the Fortran binding vs the CLI's edge list.
  subroutine sachs()
    character(:), allocatable :: srcdir, names(:), csv
    character(256) :: line, cli_edges(64), f_edges(64)
    real(c_double), allocatable :: data(:, :)
    character(3), allocatable :: ty(:)
    logical :: have_cli
    integer :: lenv, u, ios, ncli, k, ncomma, cstat
    call get_environment_variable('LATENS_SRCDIR', length=lenv)
    if (lenv > 0) then
       allocate(character(lenv) :: srcdir)
       call get_environment_variable('LATENS_SRCDIR', srcdir)
    else
       srcdir = '.'
    end if
    call latens_read_table(srcdir // '/data/sachs.csv', data, names)
    call latens_causal_pc(data, g, names=names)
    call g%edges(from, to, ty)
    print '(a,i0,a,i0,a,i0,a)', 'sachs: ', size(data, 1), ' rows, ', size(data, 2), &
         ' variables, ', size(from), ' edges'
    call check(size(from) > 0 .and. size(from) <= 64, 'sachs: some edges')
    do k = 1, min(size(from), 64)
       f_edges(k) = g%name(from(k)) // ',' // g%name(to(k)) // ',' // ty(k)
    end do
    inquire(file='latens', exist=have_cli)
    if (.not. have_cli) then
       print '(a)', 'sachs: ./latens not found, CLI comparison skipped'
       return
    end if
    csv = 'test_causal_fortran.tmp.csv'
    call execute_command_line('./latens causal pc --data ' // srcdir // '/data/sachs.csv -o ' &
         // csv, exitstat=ios, cmdstat=cstat)
    call check(ios == 0 .and. cstat == 0, 'sachs: latens causal pc ran')
    if (ios /= 0 .or. cstat /= 0) return
    ! Edge lines are the ones with a non-empty third field.
    ncli = 0
    open(newunit=u, file=csv, status='old', action='read')
    read(u, '(a)') line
    do
       read(u, '(a)', iostat=ios) line
       if (ios /= 0) exit
       ncomma = scan(line, ',', back=.true.)
       if (len_trim(line) > ncomma .and. ncli < 64) then
          ncli = ncli + 1
          cli_edges(ncli) = line
       end if
    end do
    close(u, status='delete')
    print '(a,i0,a,i0)', 'sachs: edges from the binding ', size(from), ', from the CLI ', ncli
    call check(ncli == size(from), 'sachs: as many edges as the CLI')
    if (ncli == size(from)) call check(all(cli_edges(1:ncli) == f_edges(1:ncli)), &
         'sachs: the same edges, types and order as the CLI')
  end subroutine sachs
end program test_causal
