! PC-stable with Fisher-z tests on the Sachs et al. (2005) flow-cytometry data (7,466 cells,
! 11 proteins): the estimated CPDAG as an edge list and as its endpoint matrix.
! Usage: causal_sachs [sachs.csv] (default $LATENS_SRCDIR/data/sachs.csv).  Build against an
! installed latens:
!   gfortran -I$(pkg-config --variable=includedir latens)/latens causal_sachs.f90 \
!     -L$(pkg-config --variable=libdir latens) -llatens_fortran $(pkg-config --libs latens)
program causal_sachs
  use latens
  implicit none
  ! The work runs in a procedure, so that its allocatables are released and its handles
  ! finalised on return (main-program variables are never deallocated: leak checkers
  ! would report them).
  call run()
contains
  subroutine run()
    character(:), allocatable :: path, names(:)
    character(3), allocatable :: type(:)
    real(latens_dp), allocatable :: x(:, :)
    integer, allocatable :: from(:), to(:), e(:, :)
    type(latens_causal_graph) :: g
    type(latens_causal_pc_options) :: opt
    integer :: k, l

    call get_command_argument(1, length=l)
    if (l > 0) then
       allocate(character(l) :: path)
       call get_command_argument(1, path)
    else
       call get_environment_variable('LATENS_SRCDIR', length=l)
       allocate(character(l) :: path)
       if (l > 0) call get_environment_variable('LATENS_SRCDIR', path)
       path = path // '/data/sachs.csv'
    end if
    call latens_read_table(path, x, names)

    opt = latens_causal_pc_options_default()
    opt%alpha = 0.01_latens_dp
    call latens_causal_pc(x, g, names=names, opt=opt)
    call g%edges(from, to, type)
    print '(a,i0,a,i0,a,i0,a)', 'PC on ', size(x, 1), ' cells x ', size(x, 2), ' proteins: ', &
         size(from), ' edges'
    do k = 1, size(from)
       print '(2x,a10,1x,a3,1x,a)', g%name(from(k)), type(k), g%name(to(k))
    end do
    ! e(i, j): the mark at j on the edge i *-* j (0 none, 1 tail, 2 arrow).
    call g%endpoints(e)
    print '(a)', 'endpoint matrix:'
    do k = 1, size(e, 1)
       print '(2x,a10,*(i2))', names(k), e(k, :)
    end do
  end subroutine run
end program causal_sachs
